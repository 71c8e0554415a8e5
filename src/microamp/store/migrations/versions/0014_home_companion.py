"""The home companion: a household's account, the routines it built, its home sessions.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "home_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("skipped", _JSON, nullable=False),
        sa.Column("zone_levels", _JSON, nullable=False),
        sa.Column("plan_start", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_home_accounts_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_accounts")),
        sa.UniqueConstraint("client_id", name=op.f("uq_home_accounts_client_id")),
    )
    op.create_table(
        "home_routines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["home_accounts.id"],
            name=op.f("fk_home_routines_account_id_home_accounts"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_routines")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_home_routines_account_id")),
    )
    op.create_index(
        op.f("ix_home_routines_account_id"), "home_routines", ["account_id"], unique=False
    )
    op.create_table(
        "home_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("protocol_name", sa.String(length=64), nullable=False),
        sa.Column("protocol_hash", sa.String(length=80), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("device_connected", sa.Boolean(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("seconds_done", sa.Float(), nullable=False),
        sa.Column("steps_done", _JSON, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cues", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('guided', 'device')", name=op.f("ck_home_sessions_mode")),
        sa.CheckConstraint(
            "status IN ('completed', 'stopped', 'auto-off')", name=op.f("ck_home_sessions_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["home_accounts.id"],
            name=op.f("fk_home_sessions_account_id_home_accounts"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_home_sessions_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_sessions")),
        sa.UniqueConstraint("uuid", name=op.f("uq_home_sessions_uuid")),
    )
    for column in ("account_id", "client_id", "on_date"):
        op.create_index(op.f(f"ix_home_sessions_{column}"), "home_sessions", [column], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    for column in ("account_id", "client_id", "on_date"):
        op.drop_index(op.f(f"ix_home_sessions_{column}"), table_name="home_sessions")
    op.drop_table("home_sessions")
    op.drop_index(op.f("ix_home_routines_account_id"), table_name="home_routines")
    op.drop_table("home_routines")
    op.drop_table("home_accounts")
