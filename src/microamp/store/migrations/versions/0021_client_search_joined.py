"""The client search on PostgreSQL reads one trigram index per role instead of six.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

A search ORs an ILIKE over each field the role may look in. With one GIN trigram index per
column (0020), the planner weighs a BitmapOr of six index scans against one pass over the
table and, with 10,000 clients, takes the pass: 11-17 ms for the count a full first page needs,
against 0.5 ms for one index. So the fields a role searches become one text, each field apart
from the next by U+001F, which no search holds (the search splits on whitespace, and Python
counts U+001F as whitespace), so a match can never run from one field into the next; the search
(`microamp.store.client_records`) asks for that same expression and the index serves it.

The phone's digits keep their own index (0020), and SQLite keeps its FTS5 table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLAIN = ("full_name", "email", "phone")
_CLINICAL = (*_PLAIN, "allergies", "medications", "notes")
_JOINED = {"client_search_plain": _PLAIN, "client_search_clinical": _CLINICAL}
# the per-column indexes of 0020 the joined ones replace (the phone's digits stay)
_REPLACED = tuple(f"client_search_{column}" for column in _CLINICAL)


def _joined(columns: tuple[str, ...]) -> str:
    """The SQL the search's `_one_text` builds: written out here so this revision stays as it
    was written, and checked against it by the tests (the index is used)."""
    return " || chr(31) || ".join(f"coalesce({column}, '')" for column in columns)


def _trigram_schema() -> str | None:
    """The schema pg_trgm lives in (0020 created it where it could), or None: on SQLite, or
    where PostgreSQL could not have it (the search then keeps its plain scan)."""
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        return None
    found = connection.scalar(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        )
    )
    return None if found is None else str(found)


def upgrade() -> None:
    """Upgrade schema."""
    schema = _trigram_schema()
    if schema is None:
        return
    for name, columns in _JOINED.items():
        op.execute(
            f'CREATE INDEX {name} ON clients USING gin (({_joined(columns)}) "{schema}".gin_trgm_ops)'
        )
    for name in _REPLACED:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    """Downgrade schema."""
    schema = _trigram_schema()
    if schema is None:
        return
    for name, column in zip(_REPLACED, _CLINICAL, strict=True):
        op.execute(f'CREATE INDEX {name} ON clients USING gin ({column} "{schema}".gin_trgm_ops)')
    for name in _JOINED:
        op.execute(f"DROP INDEX IF EXISTS {name}")
