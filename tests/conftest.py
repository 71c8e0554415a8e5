"""Shared test settings. Hypothesis runs without deadlines: CI machines have two busy cores."""

from __future__ import annotations

import os

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
