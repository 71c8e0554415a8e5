"""Migrations run up from empty on both databases and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from microamp.errors import StoreError
from microamp.store import StoreSettings, current_revision, head_revision, open_store
from microamp.store.base import Base
from microamp.store.db import make_engine
from microamp.store.migrate import modelled

TABLES = {
    "users",
    "clients",
    "intake_forms",
    "consents",
    "clearances",
    "course_plans",
    "appointments",
    "treatment_sessions",
    "session_events",
    "telemetry_chunks",
    "progress_entries",
    "prices",
    "packages",
    "safety_flags",
    "setup_tokens",
    "clinic_settings",
}


def test_upgrade_from_empty_creates_every_table(database_url: str, settings: StoreSettings) -> None:
    with open_store(database_url, settings=settings, upgrade=True) as store:
        assert current_revision(store.engine) == head_revision()
        assert TABLES <= set(inspect(store.engine).get_table_names())


def test_upgrade_twice_changes_nothing(database_url: str, settings: StoreSettings) -> None:
    with open_store(database_url, settings=settings, upgrade=True):
        pass
    with open_store(database_url, settings=settings, upgrade=True) as store:
        assert current_revision(store.engine) == head_revision()


def test_migrated_schema_matches_the_models(database_url: str, settings: StoreSettings) -> None:
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": modelled}
            )
            assert compare_metadata(context, Base.metadata) == []


def test_opening_an_unmigrated_database_asks_for_an_upgrade(
    database_url: str, settings: StoreSettings
) -> None:
    with pytest.raises(StoreError, match="microamp db upgrade"):
        open_store(database_url, settings=settings)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path, settings: StoreSettings) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}", settings)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
