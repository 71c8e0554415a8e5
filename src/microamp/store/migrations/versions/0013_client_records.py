"""Client records kept up to date: allergies, medications, archive and merge on the client;
skin analyses kept over time; the owner's treatment-note templates. Packages of a service at a
price, sold to clients with credits and an expiry, the credits completed appointments used, and
payments as recorded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allergies", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("medications", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("archived_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_clients_merged_into_id_clients"), "clients", ["merged_into_id"], ["id"]
        )
    op.create_table(
        "skin_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("skin_type", sa.String(length=20), nullable=False),
        sa.Column("fitzpatrick_type", sa.Integer(), nullable=False),
        sa.Column("concerns", JSON_VALUE, nullable=False),
        sa.Column("laxity_grade", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "fitzpatrick_type BETWEEN 1 AND 6", name=op.f("ck_skin_analyses_fitzpatrick_type")
        ),
        sa.CheckConstraint(
            "laxity_grade BETWEEN 0 AND 4", name=op.f("ck_skin_analyses_laxity_grade")
        ),
        sa.CheckConstraint(
            "skin_type IN ('normal', 'dry', 'oily', 'combination', 'sensitive')",
            name=op.f("ck_skin_analyses_skin_type"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_skin_analyses_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_skin_analyses_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skin_analyses")),
        sa.UniqueConstraint("client_id", "version", name=op.f("uq_skin_analyses_client_id")),
    )
    op.create_index(
        op.f("ix_skin_analyses_client_id"), "skin_analyses", ["client_id"], unique=False
    )
    op.create_table(
        "note_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_note_templates_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_note_templates_name")),
    )

    _packages_up()


def _packages_up() -> None:
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("price_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("valid_days", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_packages_service_id_services"), "services", ["service_id"], ["id"]
        )
    op.create_table(
        "client_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("sessions_total", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("sold_at", WHEN, nullable=False),
        sa.Column("sold_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_client_packages_price_minor")),
        sa.CheckConstraint("sessions_total > 0", name=op.f("ck_client_packages_sessions_total")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_packages_client_id_clients")),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"],
                                name=op.f("fk_client_packages_package_id_packages")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"],
                                name=op.f("fk_client_packages_service_id_services")),
        sa.ForeignKeyConstraint(["sold_by_id"], ["users.id"],
                                name=op.f("fk_client_packages_sold_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_packages")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_client_packages_client_id"), "client_packages", ["client_id"], unique=False
    )
    op.create_table(
        "package_credit_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_package_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("used_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"],
                                name=op.f("fk_package_credit_uses_appointment_id_appointments")),
        sa.ForeignKeyConstraint(["client_package_id"], ["client_packages.id"],
                                name=op.f("fk_package_credit_uses_client_package_id_client_packages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_credit_uses")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_package_credit_uses_appointment_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_package_credit_uses_client_package_id"), "package_credit_uses",
                    ["client_package_id"], unique=False)  # fmt: skip
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("client_package_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("taken_at", WHEN, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_minor")),
        sa.CheckConstraint("method IN ('cash', 'card', 'transfer', 'voucher', 'other')",
                           name=op.f("ck_payments_method")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_payments_client_id_clients")),
        sa.ForeignKeyConstraint(["client_package_id"], ["client_packages.id"],
                                name=op.f("fk_payments_client_package_id_client_packages")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_payments_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )  # fmt: skip
    op.create_index(op.f("ix_payments_client_id"), "payments", ["client_id"], unique=False)
    op.create_index(op.f("ix_payments_taken_at"), "payments", ["taken_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_payments_taken_at"), table_name="payments")
    op.drop_index(op.f("ix_payments_client_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(
        op.f("ix_package_credit_uses_client_package_id"), table_name="package_credit_uses"
    )
    op.drop_table("package_credit_uses")
    op.drop_index(op.f("ix_client_packages_client_id"), table_name="client_packages")
    op.drop_table("client_packages")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_packages_service_id_services"), type_="foreignkey")
        for column in ("valid_days", "currency", "price_minor", "service_id"):
            batch_op.drop_column(column)
    op.drop_table("note_templates")
    op.drop_index(op.f("ix_skin_analyses_client_id"), table_name="skin_analyses")
    op.drop_table("skin_analyses")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_clients_merged_into_id_clients"), type_="foreignkey"
        )
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("medications")
        batch_op.drop_column("allergies")
