"""Migrations run up from empty on both databases and match the models."""

from __future__ import annotations

import threading

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


def test_two_threads_opening_stores_at_once_both_reach_head(
    tmp_path, settings: StoreSettings
) -> None:
    # Alembic keeps its environment in module globals: without taking turns in the process,
    # one thread's migration tears down the other's ("KeyError: 'script'")
    start = threading.Barrier(3)
    reached: list[str | None] = []
    failed: list[BaseException] = []

    def migrate(n: int) -> None:
        start.wait()
        try:
            with open_store(f"sqlite:///{tmp_path / f'{n}.db'}", settings=settings,
                            upgrade=True) as store:  # fmt: skip
                reached.append(current_revision(store.engine))
        except BaseException as exc:  # noqa: BLE001 - every failure is the test's finding
            failed.append(exc)

    threads = [threading.Thread(target=migrate, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failed == []
    assert reached == [head_revision()] * 3
