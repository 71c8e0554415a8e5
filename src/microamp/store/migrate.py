"""Migrations, run from code: ``microamp db upgrade`` calls `upgrade_to_head`.

The Alembic environment and the revisions ship inside the package
(``microamp/store/migrations``), so an installed microamp can migrate its own database.

Several workers started at once on an empty database would each find it empty and each create
the same tables. So the whole upgrade runs under a lock that serialises processes: on
PostgreSQL a transaction-level advisory lock (``pg_advisory_xact_lock``, per schema, released
at commit or when the connection drops), on SQLite the database's own write lock, taken first
with ``BEGIN IMMEDIATE``. The first process migrates; the others wait, then find the database
at head and do nothing.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from microamp.errors import StoreError

__all__ = [
    "current_revision",
    "head_revision",
    "migrate_to",
    "modelled",
    "require_current",
    "upgrade_to_head",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# how long a process waits for another's migration to finish before giving up (SQLite)
MIGRATION_WAIT_S = 600.0
# the client search's trigram index (revisions 0020, 0021) has no model: an FTS5 table and its shadow
# tables on SQLite, GIN indexes on PostgreSQL, all named from this prefix
_SEARCH_INDEX = "client_search"


def modelled(name: str | None, type_: str, _parents: object) -> bool:
    """Whether a table or index of the database is one of the models' (alembic's
    ``include_name``): the search index's are not, so comparing the schema leaves them out."""
    return not (type_ in ("table", "index") and (name or "").startswith(_SEARCH_INDEX))


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


# Alembic's command API keeps its environment in module globals (`alembic.context`), so two
# threads of one process migrating at once (two stores opened side by side) would tear down each
# other's: they take turns here, before either holds a connection, as processes do under the
# migration lock
_ONE_THREAD_AT_A_TIME = threading.Lock()


def head_revision() -> str:
    """The newest revision this microamp knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StoreError("no migrations found in the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> str:
    """Bring the database up to the newest revision; returns it. Safe to run again, and from
    any number of processes at once: they take turns (see the module's docstring)."""
    migrate_to(engine, "head")
    return head_revision()


def migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the database to ``revision`` in one transaction,
    under the migration lock.

    On SQLite a revision that alters a table copies it and renames the copy (Alembic's batch
    mode). With foreign keys enforced, dropping the original counts every row that names it as
    a violation, and the rename never takes the count back, so the commit would fail on any
    database holding such rows. So foreign keys are off while SQLite migrates (the pragma only
    takes effect outside a transaction), every key is checked before the commit, and they are
    on again after it."""
    sqlite = engine.dialect.name == "sqlite"
    with _ONE_THREAD_AT_A_TIME, engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            _lock_for_migrations(connection)
            (command.downgrade if down else command.upgrade)(_config(connection), revision)
            if sqlite:
                _check_foreign_keys(connection)
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    """Raise `StoreError` (the migration is rolled back) if a row names one that is not there."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise StoreError(
            f"migrating left {len(broken)} row(s) naming a missing one: {table} row {rowid} "
            f"names a {parent} that is not there; the database is left as it was"
        )


def _lock_for_migrations(connection: Connection) -> None:
    """Wait for the database's migration lock; it is held until the transaction ends."""
    if connection.dialect.name == "postgresql":
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        # a migration (and the wait for another worker's) may outlast the bounds every other
        # statement runs under (`postgres_connect_args`): lifted for this transaction only
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(text("SET LOCAL lock_timeout = 0"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(schema)})
    else:
        _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    """SQLite's write lock, waited for as long as another process's migration may take (each
    try waits the busy timeout): copying photos in can take longer than one timeout."""
    deadline = time.monotonic() + MIGRATION_WAIT_S
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            connection.rollback()
            if "locked" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise StoreError(
                    f"the database stayed locked for {MIGRATION_WAIT_S:g} s while another "
                    "process migrated it: is one stuck? try `microamp db upgrade` again"
                ) from None


def _lock_key(schema: str) -> int:
    """A signed 64-bit advisory lock key of this schema's migrations (other schemas migrate on)."""
    digest = hashlib.sha256(f"microamp-migrations:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def require_current(engine: Engine) -> None:
    """Raise `StoreError` unless the database is at the newest revision."""
    current = current_revision(engine)
    if current != head_revision():
        at = current or "empty"
        raise StoreError(
            f"the database is at revision {at}, not {head_revision()}: run `microamp db upgrade`"
        )
