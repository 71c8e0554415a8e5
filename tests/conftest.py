"""Shared test settings. Hypothesis runs without deadlines: CI machines have two busy cores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# `database_url`: a real SQLite file and, where MICROAMP_TEST_DATABASE_URL is set, PostgreSQL
pytest_plugins = ["support.databases", "support.smtp", "microamp.evidence.pytest_plugin"]

settings.register_profile(
    "default",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# `make test` runs the suite on two workers, then these alone: tests bound by wall time (a
# Stop's latency, a record write's 2 s bound, the serial link's acknowledgements, leases and
# heartbeats, station processes), which a second busy worker would make fail for no fault of
# the code. Paths under tests/.
WALL_TIME_BOUND = (
    "station/",
    "devices/",
    "session/",
    "reliability/",
    "store/test_durability.py",
    "store/test_hold_watch.py",
    "store/test_leases.py",
    "store/test_lease_properties.py",
    "store/test_protocol_store.py",
    "store/test_record_writer.py",
    "store/test_run_client_cli.py",
    "store/test_run_lease_cli.py",
    "store/test_run_record_writer_cli.py",
    "store/test_worker_start.py",
    "web/test_accessibility.py",  # the live console's states wait on a running session
    "web/test_concurrency.py",
    "web/test_console_truth.py",
    "web/test_device_lease.py",
    "web/test_home_photo_camera.py",  # the fake camera's start under a second busy worker
    "web/test_pool_exhaustion.py",
    "web/test_station_cluster.py",
    "web/test_stations.py",
    "web/test_visit_steps_cluster.py",
)
_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(_TESTS).as_posix().startswith(WALL_TIME_BOUND):
            item.add_marker(pytest.mark.serial)
