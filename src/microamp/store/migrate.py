"""Migrations, run from code: ``microamp db upgrade`` calls `upgrade_to_head`.

The Alembic environment and the revisions ship inside the package
(``microamp/store/migrations``), so an installed microamp can migrate its own database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from microamp.errors import StoreError

__all__ = ["current_revision", "head_revision", "require_current", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


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
    """Bring the database up to the newest revision; returns it. Safe to run again."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")
    return head_revision()


def require_current(engine: Engine) -> None:
    """Raise `StoreError` unless the database is at the newest revision."""
    current = current_revision(engine)
    if current != head_revision():
        at = current or "empty"
        raise StoreError(
            f"the database is at revision {at}, not {head_revision()}: run `microamp db upgrade`"
        )
