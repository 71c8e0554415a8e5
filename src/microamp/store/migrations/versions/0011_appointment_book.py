"""The appointment book: the clinic's settings, closures, rooms and services; appointments with
a time, a room, a practitioner, a service and states.

A course plan's sessions stay appointments: each gets its client from its plan, and its status
becomes a state (planned -> booked, done -> completed, cancelled -> cancelled, missed ->
no_show). They keep their day and have no time until they are booked.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
_STATES = (
    "state IN ('booked', 'confirmed', 'checked_in', 'in_treatment', 'completed', "
    "'cancelled', 'no_show')"
)
_TIMES = (
    "(starts_at IS NULL AND ends_at IS NULL AND clear_at IS NULL) OR "
    "(starts_at < ends_at AND ends_at <= clear_at)"
)


def _book_tables() -> None:
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        for name, type_, default in (
            ("address", sa.Text(), sa.text("''")),
            ("opening_hours", _JSON, sa.text("'{}'")),
            ("care_sheet", sa.Text(), sa.text("''")),
            ("reminder_lead_hours", sa.Integer(), sa.text("24")),
            ("currency", sa.String(length=3), sa.text("'USD'")),
        ):
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch_op.create_check_constraint(
            op.f("ck_clinic_settings_reminder_lead_hours"), "reminder_lead_hours BETWEEN 1 AND 336"
        )
    op.create_table(
        "clinic_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_clinic_closures_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_closures")),
    )
    with op.batch_alter_table("clinic_closures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clinic_closures_first_day"), ["first_day"], unique=False
        )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("station_name", sa.String(length=120), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_name"],
            ["stations.name"],
            name=op.f("fk_rooms_station_name_stations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("name", name=op.f("uq_rooms_name")),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("buffer_min", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("protocol_name", sa.String(length=200), nullable=True),
        sa.Column("steps", _JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("duration_min BETWEEN 5 AND 480", name=op.f("ck_services_duration_min")),
        sa.CheckConstraint("buffer_min BETWEEN 0 AND 120", name=op.f("ck_services_buffer_min")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_services_price_minor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("name", name=op.f("uq_services_name")),
    )


_NEW_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("client_id", sa.Integer()),
    ("state", sa.String(length=20)),
    ("service_id", sa.Integer()),
    ("room_id", sa.Integer()),
    ("practitioner_id", sa.Integer()),
    ("starts_at", sa.DateTime(timezone=True)),
    ("ends_at", sa.DateTime(timezone=True)),
    ("clear_at", sa.DateTime(timezone=True)),
    ("treatment_session_id", sa.Integer()),
    ("series_id", sa.String(length=36)),
    ("booked_by_id", sa.Integer()),
    ("notes", sa.Text()),
    ("created_at", sa.DateTime(timezone=True)),
    ("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        # the table is copied and renamed; sessions that name an appointment are checked at
        # commit, when the copy bears the name again
        op.execute("PRAGMA defer_foreign_keys = ON")
    _book_tables()
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        for name, type_ in _NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.execute(
        "UPDATE appointments SET "
        "client_id = (SELECT course_plans.client_id FROM course_plans "
        "WHERE course_plans.id = appointments.plan_id), "
        "state = CASE status WHEN 'done' THEN 'completed' WHEN 'cancelled' THEN 'cancelled' "
        "WHEN 'missed' THEN 'no_show' ELSE 'booked' END, "
        "created_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP"
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appointments_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_appointments_phase"), type_="check")
        batch_op.drop_column("status")
        for name in ("client_id", "state", "created_at", "updated_at"):
            batch_op.alter_column(name, existing_type=dict(_NEW_COLUMNS)[name], nullable=False)
        batch_op.alter_column("plan_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("phase", existing_type=sa.String(length=20), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_appointments_phase"), "phase IS NULL OR phase IN ('initial', 'maintenance')"
        )
        batch_op.create_check_constraint(op.f("ck_appointments_state"), _STATES)
        batch_op.create_check_constraint(op.f("ck_appointments_times"), _TIMES)
        for column, table in (
            ("client_id", "clients"),
            ("service_id", "services"),
            ("room_id", "rooms"),
            ("practitioner_id", "users"),
            ("booked_by_id", "users"),
        ):
            batch_op.create_foreign_key(
                op.f(f"fk_appointments_{column}_{table}"), table, [column], ["id"]
            )
        for name, columns in (
            ("ix_appointments_starts_at", ["starts_at"]),
            ("ix_appointments_series_id", ["series_id"]),
            ("ix_appointments_treatment_session_id", ["treatment_session_id"]),
            ("ix_appointments_room_starts", ["room_id", "starts_at"]),
            ("ix_appointments_practitioner_starts", ["practitioner_id", "starts_at"]),
            ("ix_appointments_client_starts", ["client_id", "starts_at"]),
        ):
            batch_op.create_index(op.f(name), columns, unique=False)


def downgrade() -> None:
    """Downgrade schema: timed appointments, the book's tables and its states are dropped."""
    op.execute(
        "UPDATE treatment_sessions SET appointment_id = NULL WHERE appointment_id IN "
        "(SELECT id FROM appointments WHERE plan_id IS NULL)"
    )
    op.execute("DELETE FROM appointments WHERE plan_id IS NULL")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE appointments SET status = CASE state WHEN 'completed' THEN 'done' "
        "WHEN 'cancelled' THEN 'cancelled' WHEN 'no_show' THEN 'missed' ELSE 'planned' END"
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        for name in (
            "ix_appointments_client_starts",
            "ix_appointments_practitioner_starts",
            "ix_appointments_room_starts",
            "ix_appointments_treatment_session_id",
            "ix_appointments_series_id",
            "ix_appointments_starts_at",
        ):
            batch_op.drop_index(op.f(name))
        for column, table in (
            ("client_id", "clients"),
            ("service_id", "services"),
            ("room_id", "rooms"),
            ("practitioner_id", "users"),
            ("booked_by_id", "users"),
        ):
            batch_op.drop_constraint(op.f(f"fk_appointments_{column}_{table}"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_appointments_times"), type_="check")
        batch_op.drop_constraint(op.f("ck_appointments_state"), type_="check")
        batch_op.drop_constraint(op.f("ck_appointments_phase"), type_="check")
        for name, _type in _NEW_COLUMNS:
            batch_op.drop_column(name)
        batch_op.alter_column("status", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("plan_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("phase", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_appointments_status"), "status IN ('planned', 'done', 'cancelled', 'missed')"
        )
        batch_op.create_check_constraint(
            op.f("ck_appointments_phase"), "phase IN ('initial', 'maintenance')"
        )
    op.drop_table("services")
    op.drop_table("rooms")
    op.drop_index("ix_clinic_closures_first_day", table_name="clinic_closures")
    op.drop_table("clinic_closures")
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_clinic_settings_reminder_lead_hours"), type_="check")
        for name in ("currency", "reminder_lead_hours", "care_sheet", "opening_hours", "address"):
            batch_op.drop_column(name)
