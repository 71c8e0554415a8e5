"""A live session keeps the protocol it runs, so every worker draws the steps of the run even
once she has edited the routine it was built from.

Revision ID: 0018
Revises: 0017
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
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_protocol", JSON_VALUE, nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_column("run_protocol")
