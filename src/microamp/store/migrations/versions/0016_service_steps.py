"""The whole facial service: a visit's manual steps, with their timers, products and operator.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "visit_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("planned_min", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("running_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_by", sa.String(length=200), nullable=False),
        sa.Column("skin_analysis_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'paused', 'done', 'skipped')",
            name=op.f("ck_visit_steps_status"),
        ),
        sa.CheckConstraint(
            "planned_min BETWEEN 0 AND 240", name=op.f("ck_visit_steps_planned_min")
        ),
        sa.CheckConstraint("elapsed_s >= 0", name=op.f("ck_visit_steps_elapsed_s")),
        sa.CheckConstraint(
            "(status = 'running') = (running_since IS NOT NULL)",
            name=op.f("ck_visit_steps_running_since"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_visit_steps_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["users.id"], name=op.f("fk_visit_steps_done_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["skin_analysis_id"],
            ["skin_analyses.id"],
            name=op.f("fk_visit_steps_skin_analysis_id_skin_analyses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_steps")),
        sa.UniqueConstraint(
            "appointment_id", "position", name=op.f("uq_visit_steps_appointment_id")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("visit_steps")
