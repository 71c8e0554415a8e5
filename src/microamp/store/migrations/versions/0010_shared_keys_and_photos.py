"""What every web worker on every host must share: the signing key, and the photos.

``stored_keys`` holds the web workers' signing key (when ``MICROAMP_SECRET_KEY`` is not set)
and its keyed fingerprint; ``photo_blobs`` the progress photos by their SHA-256. The photos an
older microamp wrote to this host's disk are copied in, each checked against its digest; a file
this host does not have (or that no longer matches) is left where it is, and read from there as
before. The files themselves are left in place: remove them once the photos show.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}
_ENTRIES = sa.table(
    "progress_entries",
    sa.column("photo_path", sa.String()),
    sa.column("photo_sha256", sa.String()),
)


_BLOBS = sa.table(
    "photo_blobs",
    sa.column("sha256", sa.String()),
    sa.column("media_type", sa.String()),
    sa.column("size_bytes", sa.Integer()),
    sa.column("data", sa.LargeBinary()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _copy_photos_in() -> None:
    """Each photo file this host has, whose bytes still match the entry's digest, as a row."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_ENTRIES.c.photo_path, _ENTRIES.c.photo_sha256)
        .where(_ENTRIES.c.photo_path.is_not(None), _ENTRIES.c.photo_sha256.is_not(None))
        .distinct()
    ).all()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":  # as the models' UTCDateTime stores it there
        now = now.replace(tzinfo=None)
    copied: set[str] = set()
    for photo_path, digest in rows:
        path = Path(photo_path)
        if digest in copied or not path.is_file():
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            continue
        connection.execute(sa.insert(_BLOBS).values(
            sha256=digest, media_type=_MEDIA_TYPES.get(path.suffix, "image/jpeg"),
            size_bytes=len(data), data=data, created_at=now,
        ))  # fmt: skip
        copied.add(digest)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "stored_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stored_keys")),
    )
    op.create_table(
        "photo_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_photo_blobs")),
    )
    _copy_photos_in()


def downgrade() -> None:
    """Downgrade schema; refused while a photo lives only in the table (it would be lost)."""
    only_here = op.get_bind().scalar(
        sa.select(sa.func.count())
        .select_from(_ENTRIES)
        .where(_ENTRIES.c.photo_sha256.is_not(None), _ENTRIES.c.photo_path.is_(None))
    )
    if only_here:
        raise RuntimeError(f"{only_here} photos are kept only in the database: not downgrading")
    op.drop_table("photo_blobs")
    op.drop_table("stored_keys")
