"""Store fixtures: every store test runs on a real SQLite file and on PostgreSQL.

PostgreSQL comes from MICROAMP_TEST_DATABASE_URL (CI sets it); each test gets a schema of its
own, dropped afterwards, so parallel and repeated runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from microamp.store import Store, StoreSettings, open_store

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
SKIP_REASON = f"{PG_ENV} is not set: PostgreSQL store tests need a database URL"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the test database; yields a URL whose search_path is that schema."""
    url = make_url(base_url)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        scoped = url.set(drivername="postgresql+psycopg").update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield scoped.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file under tmp_path, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with postgres_schema(base) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path) -> StoreSettings:
    return StoreSettings(data_dir=tmp_path / "data", database_url=None, telemetry_flush_s=1.0)


@pytest.fixture
def store(database_url: str, settings: StoreSettings) -> Iterator[Store]:
    """A migrated store, closed afterwards."""
    with open_store(database_url, settings=settings, upgrade=True) as opened:
        yield opened
