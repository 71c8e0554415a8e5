"""The client search's trigram index: on SQLite an FTS5 table ``client_search`` (trigram
tokenizer, SQLite 3.34 and later) over the name, email, phone, the phone's digits alone and the
health fields, kept in step with ``clients`` by triggers; on PostgreSQL GIN trigram indexes
(pg_trgm) on the same columns, where the extension can be created.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

The search (`microamp.store.client_records`) still applies its LIKE to the rows the index
finds, so results stay exactly those of the plain scan; only the scan is gone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the phone with the usual separators removed, as the search's `_phone_digits` does
_DIGITS = "phone"
for _separator in (" ", "-", ".", "(", ")", "+", "/"):
    _DIGITS = f"replace({_DIGITS}, '{_separator}', '')"

_COLUMNS = "full_name, email, phone, phone_digits, allergies, medications, notes"


def _row(prefix: str) -> str:
    digits = _DIGITS.replace("phone,", f"{prefix}.phone,", 1)
    return (
        f"{prefix}.id, {prefix}.full_name, {prefix}.email, {prefix}.phone, {digits}, "
        f"{prefix}.allergies, {prefix}.medications, {prefix}.notes"
    )


_SQLITE_UP = (
    f"CREATE VIRTUAL TABLE client_search USING fts5({_COLUMNS}, tokenize='trigram')",
    f"INSERT INTO client_search (rowid, {_COLUMNS}) SELECT {_row('clients')} FROM clients",
    "CREATE TRIGGER client_search_insert AFTER INSERT ON clients BEGIN "
    f"INSERT INTO client_search (rowid, {_COLUMNS}) SELECT {_row('new')}; END",
    "CREATE TRIGGER client_search_update AFTER UPDATE OF full_name, email, phone, allergies, "
    "medications, notes ON clients BEGIN "
    "DELETE FROM client_search WHERE rowid = old.id; "
    f"INSERT INTO client_search (rowid, {_COLUMNS}) SELECT {_row('new')}; END",
    "CREATE TRIGGER client_search_delete AFTER DELETE ON clients BEGIN "
    "DELETE FROM client_search WHERE rowid = old.id; END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS client_search_insert",
    "DROP TRIGGER IF EXISTS client_search_update",
    "DROP TRIGGER IF EXISTS client_search_delete",
    "DROP TABLE IF EXISTS client_search",
)
_PG_INDEXED = {
    "client_search_full_name": "full_name",
    "client_search_email": "email",
    "client_search_phone": "phone",
    "client_search_phone_digits": f"({_DIGITS})",
    "client_search_allergies": "allergies",
    "client_search_medications": "medications",
    "client_search_notes": "notes",
}


def _trigram_schema(connection: sa.Connection) -> str | None:
    """The schema pg_trgm lives in, creating it in public if it is not there and may be; None
    if it cannot be (then the search keeps its plain scan)."""
    found = connection.scalar(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        )
    )
    if found is not None:
        return str(found)
    try:
        with connection.begin_nested():
            connection.execute(sa.text("CREATE EXTENSION pg_trgm WITH SCHEMA public"))
    except sa.exc.DBAPIError:
        return None
    return "public"


def upgrade() -> None:
    """Upgrade schema."""
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
        return
    schema = _trigram_schema(connection)
    if schema is None:
        return
    for name, column in _PG_INDEXED.items():
        op.execute(f'CREATE INDEX {name} ON clients USING gin ({column} "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
        return
    for name in _PG_INDEXED:
        op.execute(f"DROP INDEX IF EXISTS {name}")
