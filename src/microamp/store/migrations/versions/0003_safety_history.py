"""Safety history: flags that keep a contraindication on the client until a recorded lift.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Types are spelled out here rather than imported from the models, so this revision stays as it
was written. Every contraindication and clearance requirement already on file becomes a flag,
raised by the first screening that found it, so upgrading forgets none of them.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
KEPT_OUTCOMES = ("contraindicated", "clearance_required")

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_forms = sa.table(
    "intake_forms",
    sa.column("id", sa.Integer()),
    sa.column("client_id", sa.Integer()),
    sa.column("reasons", JSON_VALUE),
    sa.column("screened_on", sa.Date()),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    """Upgrade schema."""
    flags = op.create_table(
        "safety_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intake_form_id", sa.Integer(), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lifted_by", sa.String(length=254), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('contraindicated', 'clearance_required')",
            name=op.f("ck_safety_flags_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_safety_flags_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["intake_form_id"],
            ["intake_forms.id"],
            name=op.f("fk_safety_flags_intake_form_id_intake_forms"),
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["users.id"], name=op.f("fk_safety_flags_lifted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_flags")),
    )
    op.create_index(op.f("ix_safety_flags_client_id"), "safety_flags", ["client_id"], unique=False)
    assert flags is not None
    rows = _flags_from_screenings(op.get_bind())
    if rows:
        op.bulk_insert(flags, rows)


def _flags_from_screenings(connection: sa.Connection) -> list[dict[str, Any]]:
    """One flag per client and rule, from the first screening (by recording) that found it."""
    found: dict[tuple[int, str], dict[str, Any]] = {}
    query = sa.select(_forms).order_by(_forms.c.recorded_at, _forms.c.id)
    for form in connection.execute(query):
        for reason in form.reasons or []:
            key = (form.client_id, str(reason.get("rule_id")))
            if reason.get("outcome") in KEPT_OUTCOMES and key not in found:
                found[key] = _flag_row(form, reason)
    return list(found.values())


def _flag_row(form: Any, reason: dict[str, Any]) -> dict[str, Any]:
    recorded_at: datetime = form.recorded_at
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    # a screening dated ahead of its recording is dated by its recording instead
    raised_on: date = min(form.screened_on, recorded_at.date())
    return {
        "client_id": form.client_id,
        "rule_id": str(reason["rule_id"]),
        "outcome": reason["outcome"],
        "message": str(reason.get("message", "")),
        "raised_on": raised_on,
        "raised_at": recorded_at,
        "intake_form_id": form.id,
    }


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_safety_flags_client_id"), table_name="safety_flags")
    op.drop_table("safety_flags")
