"""Measured results: each progress photo's view, lighting notes, photo-use consent, and its
measures (millimetres, pose, quality, landmarks), computed once at upload.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("progress_entries") as table:
        table.add_column(sa.Column("view", sa.String(length=10), nullable=True))
        table.add_column(sa.Column("lighting_notes", sa.Text(), nullable=False, server_default=""))
        table.add_column(
            sa.Column("photo_use_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("measurement", JSON_VALUE, nullable=True))
        table.add_column(sa.Column("unmeasured", sa.Text(), nullable=True))
        table.create_check_constraint(
            op.f("ck_progress_entries_view"),
            "view IS NULL OR view IN ('front', 'left45', 'right45')",
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("progress_entries") as table:
        table.drop_constraint("ck_progress_entries_view", type_="check")
        table.drop_column("unmeasured")
        table.drop_column("measurement")
        table.drop_column("photo_use_consent")
        table.drop_column("lighting_notes")
        table.drop_column("view")
