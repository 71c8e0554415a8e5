"""`make bench` must run on main: the quick bench runs every section, and the README carries
every figure row the report renders from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench import report
from bench.__main__ import MODULES

ROOT = Path(__file__).resolve().parents[1]

# the top-level keys each bench module contributes to the document
SECTIONS = {
    "engine": ("engine",),
    "devices": ("reaction", "simulator", "characterize"),
    "sessions": ("sessions",),
    "records": ("records",),
    "web": ("web",),
    "signin": ("session_lookup",),
    "audit": ("audit_cost", "audit_chain_check"),
    "uploads": ("uploads",),
    "photos": ("photo_storage",),
    "vision": ("vision",),
    "startup": ("startup",),
    "stations": ("stations",),
    "home": ("home",),
    "mail": ("mail",),
    "cluster": ("cluster",),
    "clinic": ("clinic",),
    "slots": ("slots",),
    "fhir": ("fhir",),
}


@pytest.fixture(scope="module")
def quick_document() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a guard against a hung section, not a speed check
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document: dict[str, object] = json.loads(done.stdout)
    return document


@pytest.mark.slow
def test_quick_bench_runs_every_section(quick_document: dict[str, object]) -> None:
    assert quick_document["quick"] is True
    assert set(SECTIONS) == set(MODULES)
    for module, keys in SECTIONS.items():
        for key in keys:
            assert key in quick_document, f"bench.{module} gave no {key!r}"


@pytest.mark.slow
def test_readme_carries_every_row_the_report_renders(quick_document: dict[str, object]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rendered = report.render(quick_document)
    assert rendered.count("\n|") > 10
    missing = [label for label in report.row_labels(quick_document) if f"| {label} |" not in readme]
    assert not missing, f"README has no row for: {missing}"
