"""Stations: the registered owners of devices, the controls addressed to them, and the live
state and messages of the sessions they run, so any web worker serves any session.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("device_url", sa.String(length=500), nullable=False),
        sa.Column("device", sa.String(length=500), nullable=False),
        sa.Column("capabilities", JSON_VALUE, nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("heartbeat_at", WHEN, nullable=False),
        sa.Column("live_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("name", name=op.f("uq_stations_name")),
    )
    op.create_index(op.f("ix_stations_device"), "stations", ["device"], unique=False)
    op.create_table(
        "station_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=120), nullable=False),
        sa.Column("live_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("value", JSON_VALUE, nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("operator_via", sa.String(length=16), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("taken_at", WHEN, nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("answer", JSON_VALUE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_controls")),
    )
    op.create_index(
        op.f("ix_station_controls_station"), "station_controls", ["station"], unique=False
    )
    op.create_index(
        op.f("ix_station_controls_live_id"), "station_controls", ["live_id"], unique=False
    )
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("station", sa.String(length=120), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("protocol", sa.String(length=64), nullable=False),
        sa.Column("device_url", sa.String(length=500), nullable=False),
        sa.Column("intensity", sa.Float(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_max_ua", sa.Float(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("state", JSON_VALUE, nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    op.create_index(op.f("ix_live_sessions_station"), "live_sessions", ["station"], unique=False)
    op.create_index(op.f("ix_live_sessions_done"), "live_sessions", ["done"], unique=False)
    op.create_table(
        "live_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("live_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("data", JSON_VALUE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_messages")),
        sa.UniqueConstraint("live_id", "seq", name=op.f("uq_live_messages_live_id")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("live_messages")
    op.drop_index(op.f("ix_live_sessions_done"), table_name="live_sessions")
    op.drop_index(op.f("ix_live_sessions_station"), table_name="live_sessions")
    op.drop_table("live_sessions")
    op.drop_index(op.f("ix_station_controls_live_id"), table_name="station_controls")
    op.drop_index(op.f("ix_station_controls_station"), table_name="station_controls")
    op.drop_table("station_controls")
    op.drop_index(op.f("ix_stations_device"), table_name="stations")
    op.drop_table("stations")
