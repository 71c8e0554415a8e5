"""Her own routine on the device: a session record keeps the personalisation it ran with (the
routine, what she skipped, her zone levels), and a live session the start's personalisation, so
every worker shows the routine the station runs.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("personalisation", JSON_VALUE, nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal", JSON_VALUE, nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_column("personal")
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.drop_column("personalisation")
