"""Store fixtures: every store test runs on a real SQLite file and on PostgreSQL (the shared
`database_url` fixture of support.databases).

PostgreSQL comes from MICROAMP_TEST_DATABASE_URL (CI sets it); each test gets a schema of its
own, dropped afterwards, so parallel and repeated runs never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from microamp.store import Store, StoreSettings, open_store


@pytest.fixture
def settings(tmp_path: Path) -> StoreSettings:
    return StoreSettings(data_dir=tmp_path / "data", database_url=None, telemetry_flush_s=1.0)


@pytest.fixture
def store(database_url: str, settings: StoreSettings) -> Iterator[Store]:
    """A migrated store, closed afterwards."""
    with open_store(database_url, settings=settings, upgrade=True) as opened:
        yield opened
