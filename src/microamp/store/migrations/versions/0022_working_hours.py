"""Online booking's free slots: each practitioner's working hours (none: the clinic's), and a
service's short description for the public booking page.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_hours", _JSON, nullable=True))
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("description")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("working_hours")
