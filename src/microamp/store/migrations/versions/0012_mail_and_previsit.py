"""The clinic's mail (its SMTP settings, the outbox, the log of every attempt to send) and the
forms clients fill before the visit (signed links and what was sent on them).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("tls_mode", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("password", sa.Text(), nullable=False),
        sa.Column("from_address", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_settings")),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_outbox_key")),
    )
    op.create_index(op.f("ix_mail_outbox_status"), "mail_outbox", ["status"], unique=False)
    op.create_index(
        op.f("ix_mail_outbox_next_attempt_at"), "mail_outbox", ["next_attempt_at"], unique=False
    )
    op.create_table(
        "mail_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("server", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["mail_outbox.id"], name=op.f("fk_mail_attempts_message_id_mail_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attempts")),
    )
    op.create_index(
        op.f("ix_mail_attempts_message_id"), "mail_attempts", ["message_id"], unique=False
    )

    _previsit_tables()


def _previsit_tables() -> None:
    op.create_table(
        "previsit_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_to", sa.String(length=254), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_previsit_links_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_previsit_links_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_previsit_links")),
    )
    op.create_index(
        op.f("ix_previsit_links_client_id"), "previsit_links", ["client_id"], unique=False
    )
    op.create_table(
        "previsit_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),  # fmt: skip
        sa.Column("consent_version", sa.String(length=40), nullable=False),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("signature_method", sa.String(length=10), nullable=False),
        sa.Column("drawn_signature", sa.LargeBinary(), nullable=True),
        sa.Column("photo_consent", sa.Boolean(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intake_form_id", sa.Integer(), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["previsit_links.id"],
            name=op.f("fk_previsit_submissions_link_id_previsit_links"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_previsit_submissions_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["users.id"],
            name=op.f("fk_previsit_submissions_reviewed_by_id_users"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["intake_form_id"],
            ["intake_forms.id"],
            name=op.f("fk_previsit_submissions_intake_form_id_intake_forms"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consents.id"],
            name=op.f("fk_previsit_submissions_consent_id_consents"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_previsit_submissions")),
        sa.UniqueConstraint("link_id", name=op.f("uq_previsit_submissions_link_id")),
    )
    op.create_index(
        op.f("ix_previsit_submissions_client_id"), "previsit_submissions", ["client_id"],
        unique=False,
    )  # fmt: skip
    op.create_index(
        op.f("ix_previsit_submissions_status"), "previsit_submissions", ["status"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_previsit_submissions_status"), table_name="previsit_submissions")
    op.drop_index(op.f("ix_previsit_submissions_client_id"), table_name="previsit_submissions")
    op.drop_table("previsit_submissions")
    op.drop_index(op.f("ix_previsit_links_client_id"), table_name="previsit_links")
    op.drop_table("previsit_links")
    op.drop_index(op.f("ix_mail_attempts_message_id"), table_name="mail_attempts")
    op.drop_table("mail_attempts")
    op.drop_index(op.f("ix_mail_outbox_next_attempt_at"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_status"), table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("mail_settings")
