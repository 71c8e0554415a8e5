"""Progress photos kept in the database, by their SHA-256, where every worker on every host
finds them.

A photo as kept (`microamp.store.photos.prepare_photo`: at most 2,048 px, a few hundred
kilobytes) is a row of `PhotoBlob` keyed by the digest of its bytes: the same photo twice is one
row, and a row can be checked against its key. It is written in the transaction that writes its
progress entry and its audit row, so there is never an entry without its photo nor a photo
without its entry, it is backed up and restored with the records, and erasing a client is one
transaction. A shared directory would need a network file system mounted alike on every host,
and a crash between the file and the row would leave one without the other.

Photos written by an older microamp live on the local disk at the entry's ``photo_path``:
migration 0010 copies in those it finds, and `photo_data` still falls back to the file for any it
could not (written on another host).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Integer, LargeBinary, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.store.base import Base, UTCDateTime, utc_now
from microamp.store.models import ProgressEntry

__all__ = ["MEDIA_TYPES", "PhotoBlob", "StoredPhoto", "entry_photo", "keep_photo", "photo_data"]

# the suffix `prepare_photo` gives a photo, and the media type it is served as
MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


class PhotoBlob(Base):
    """A photo's bytes, under their SHA-256 (hex)."""

    __tablename__ = "photo_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A kept photo's bytes and how to serve them."""

    data: bytes
    media_type: str


def keep_photo(session: Session, *, sha256: str, data: bytes, suffix: str) -> None:
    """Store ``data`` under ``sha256`` unless it is there already (a photo uploaded twice, or
    by two workers at once: ``INSERT ... ON CONFLICT DO NOTHING``, so neither fails)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {"sha256": sha256, "media_type": MEDIA_TYPES[suffix], "size_bytes": len(data),
           "data": data, "created_at": utc_now()}  # fmt: skip
    session.execute(insert(PhotoBlob).values(row).on_conflict_do_nothing(index_elements=["sha256"]))


def photo_data(
    session: Session, *, sha256: str | None, legacy_path: str | None
) -> StoredPhoto | None:
    """The photo stored under ``sha256``; else the file an older microamp wrote at
    ``legacy_path``, if this host has it and its bytes still match ``sha256``; else None."""
    if sha256 is not None:
        found = session.execute(
            select(PhotoBlob.data, PhotoBlob.media_type).where(PhotoBlob.sha256 == sha256)
        ).first()
        if found is not None:
            return StoredPhoto(data=found.data, media_type=found.media_type)
    if legacy_path is None:
        return None
    path = Path(legacy_path)
    if sha256 is None or not path.is_file():
        return None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:  # changed on disk since: not the photo kept
        return None
    return StoredPhoto(data=data, media_type=MEDIA_TYPES.get(path.suffix, "image/jpeg"))


def entry_photo(session: Session, entry: ProgressEntry) -> StoredPhoto | None:
    """The photo kept with ``entry`` (see `photo_data`), or None."""
    return photo_data(session, sha256=entry.photo_sha256, legacy_path=entry.photo_path)
