"""The home operator: a `home` role for users, and the home account's own operator user.

At home the person is the operator of her own sessions only: her account names a user with the
`home` role, who appears as the practitioner of her device sessions and may operate nothing
else (no clinic route admits the role).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(
            "role", "role IN ('owner', 'practitioner', 'reception', 'home')"
        )
    with op.batch_alter_table("home_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operator_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_home_accounts_operator_id_users", "users", ["operator_id"], ["id"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("home_accounts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_home_accounts_operator_id_users", type_="foreignkey")
        batch_op.drop_column("operator_id")
    op.execute("UPDATE users SET active = false, role = 'reception' WHERE role = 'home'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", "role IN ('owner', 'practitioner', 'reception')")
