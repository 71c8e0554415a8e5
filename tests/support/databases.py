"""The database every store-backed test runs on: a real SQLite file and PostgreSQL.

PostgreSQL comes from MICROAMP_TEST_DATABASE_URL (CI sets it); each test gets a schema of its
own, dropped afterwards. Import `database_url` into a conftest or test module to use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from microamp.store.scratch import scratch_schema

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
SKIP_REASON = f"{PG_ENV} is not set: PostgreSQL store tests need a database URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file under tmp_path, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new PostgreSQL schema alone (tests of what only PostgreSQL does: a link to cut)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url:
        yield url
