"""Initial schema: users, clients, intake, consent, clearances, plans, sessions, progress, prices.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Types are spelled out here rather than imported from the models, so this revision stays as it
was written whatever the models become.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("fitzpatrick_type", sa.Integer(), nullable=True),
        sa.Column("concerns", JSON_VALUE, nullable=False),
        sa.Column("preferred_weekdays", JSON_VALUE, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fitzpatrick_type BETWEEN 1 AND 6", name=op.f("ck_clients_fitzpatrick_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clients_full_name"), ["full_name"], unique=False)

    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column(
            "discount_pct", sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column("protocol_name", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "discount_pct >= 0 AND discount_pct < 100", name=op.f("ck_packages_discount_pct")
        ),
        sa.CheckConstraint("sessions > 0", name=op.f("ck_packages_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("name", name=op.f("uq_packages_name")),
    )
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_name", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_prices_amount_cents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
        sa.UniqueConstraint("protocol_name", name=op.f("uq_prices_protocol_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'practitioner', 'reception')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "clearances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("physician_name", sa.String(length=200), nullable=False),
        sa.Column("rule_ids", JSON_VALUE, nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("document_ref", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_clearances_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_clearances_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearances")),
    )
    with op.batch_alter_table("clearances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clearances_client_id"), ["client_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("typed_signature", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("witnessed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_consents_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["witnessed_by_id"], ["users.id"], name=op.f("fk_consents_witnessed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_client_id"), ["client_id"], unique=False)

    op.create_table(
        "course_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("protocol_name", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("weekdays", JSON_VALUE, nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("price_per_session_cents", sa.Integer(), nullable=True),
        sa.Column("estimated_cost_cents", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_course_plans_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_course_plans_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_plans")),
    )
    with op.batch_alter_table("course_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_plans_client_id"), ["client_id"], unique=False)

    op.create_table(
        "intake_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("answers", JSON_VALUE, nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("reasons", JSON_VALUE, nullable=False),
        sa.Column("avoid_zones", JSON_VALUE, nullable=False),
        sa.Column("deferred_until", sa.Date(), nullable=True),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_intake_forms_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_intake_forms_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_forms")),
    )
    with op.batch_alter_table("intake_forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_forms_client_id"), ["client_id"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("checkin", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "phase IN ('initial', 'maintenance')", name=op.f("ck_appointments_phase")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'done', 'cancelled', 'missed')",
            name=op.f("ck_appointments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["course_plans.id"], name=op.f("fk_appointments_plan_id_course_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_appointments_plan_id")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointments_on_date"), ["on_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "treatment_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("protocol_name", sa.String(length=200), nullable=False),
        sa.Column("protocol_version", sa.String(length=40), nullable=False),
        sa.Column("protocol_hash", sa.String(length=128), nullable=False),
        sa.Column("device_url", sa.String(length=500), nullable=False),
        sa.Column("device_capabilities", JSON_VALUE, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_write_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorder_host", sa.String(length=255), nullable=False),
        sa.Column("recorder_pid", sa.Integer(), nullable=True),
        sa.Column("avoid_zones", JSON_VALUE, nullable=False),
        sa.Column("refusal_reasons", JSON_VALUE, nullable=False),
        sa.Column("dose_by_zone", JSON_VALUE, nullable=False),
        sa.Column("delivered_settings", JSON_VALUE, nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("telemetry_frames", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("feedback_comfort", sa.Integer(), nullable=True),
        sa.Column("feedback_tingling", sa.Boolean(), nullable=True),
        sa.Column("feedback_metallic_taste", sa.Boolean(), nullable=True),
        sa.Column("feedback_redness", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'stopped', 'aborted', 'interrupted', 'refused')",
            name=op.f("ck_treatment_sessions_status"),
        ),
        sa.CheckConstraint(
            "feedback_comfort BETWEEN 0 AND 10", name=op.f("ck_treatment_sessions_feedback_comfort")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_treatment_sessions_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_treatment_sessions_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_treatment_sessions_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_sessions")),
    )
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_treatment_sessions_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_treatment_sessions_status"), ["status"], unique=False)

    op.create_table(
        "progress_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("treatment_session_id", sa.Integer(), nullable=True),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("photo_path", sa.String(length=1000), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("ratings", JSON_VALUE, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_progress_entries_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_progress_entries_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["treatment_session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_progress_entries_treatment_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_entries")),
    )
    with op.batch_alter_table("progress_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_progress_entries_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "session_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("t_s", sa.Float(), nullable=False),
        sa.Column("data", JSON_VALUE, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_session_events_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_events")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_session_events_session_id")),
    )
    with op.batch_alter_table("session_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_events_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "telemetry_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("t_start_s", sa.Float(), nullable=False),
        sa.Column("t_end_s", sa.Float(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("source_frames", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=40), nullable=False),
        sa.Column("columns", JSON_VALUE, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("flag_changes", JSON_VALUE, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_telemetry_chunks_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_chunks")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_telemetry_chunks_session_id")),
    )
    with op.batch_alter_table("telemetry_chunks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_telemetry_chunks_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("telemetry_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telemetry_chunks_session_id"))

    op.drop_table("telemetry_chunks")
    with op.batch_alter_table("session_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_events_session_id"))

    op.drop_table("session_events")
    with op.batch_alter_table("progress_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_entries_client_id"))

    op.drop_table("progress_entries")
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treatment_sessions_status"))
        batch_op.drop_index(batch_op.f("ix_treatment_sessions_client_id"))

    op.drop_table("treatment_sessions")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_plan_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_on_date"))

    op.drop_table("appointments")
    with op.batch_alter_table("intake_forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_forms_client_id"))

    op.drop_table("intake_forms")
    with op.batch_alter_table("course_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_plans_client_id"))

    op.drop_table("course_plans")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_client_id"))

    op.drop_table("consents")
    with op.batch_alter_table("clearances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearances_client_id"))

    op.drop_table("clearances")
    op.drop_table("users")
    op.drop_table("prices")
    op.drop_table("packages")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_full_name"))

    op.drop_table("clients")
