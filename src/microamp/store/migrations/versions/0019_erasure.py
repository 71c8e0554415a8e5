"""Erasure: how many years the clinic keeps a client's records after her last treatment
(0: no hold), the owner's setting that can refuse an erasure.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_years", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint("retention_years", "retention_years BETWEEN 0 AND 100")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.drop_constraint("retention_years", type_="check")
        batch_op.drop_column("retention_years")
