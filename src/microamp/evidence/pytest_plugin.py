"""The ``requirement(*ids)`` marker: which tests verify which requirement of the register.

Loaded by the test suite's conftest (so an unknown id fails every collection) and by
`microamp evidence`, which runs pytest with ``--evidence-json PATH`` to learn, per test node id,
the requirements it verifies and, when the tests ran, its outcome.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from microamp.evidence.register import REGISTER

MARKER = "requirement"
OPTION = "--evidence-json"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        default=None,
        help="write each test marked requirement(...) with its ids (and outcome) to this JSON file",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): the test verifies these requirements of the register"
    )
    config.stash[_KEY] = _Record()


class _Record:
    def __init__(self) -> None:
        self.tests: dict[str, list[str]] = {}
        self.outcomes: dict[str, str] = {}


_KEY = pytest.StashKey[_Record]()


def marked_ids(item: pytest.Item) -> list[str]:
    """The requirement ids an item's markers name, in order, each once."""
    ids: list[str] = []
    for marker in item.iter_markers(MARKER):
        ids += [str(a) for a in marker.args if str(a) not in ids]
    return ids


def _problems(item: pytest.Item) -> list[str]:
    known = set(REGISTER.ids)
    problems = []
    for marker in item.iter_markers(MARKER):
        if not marker.args:
            problems.append(f"{item.nodeid}: {MARKER}() names no requirement")
        for arg in marker.args:
            if arg not in known:
                problems.append(f"{item.nodeid}: {arg!r} is not a requirement in the register")
    return problems


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = [p for item in items for p in _problems(item)]
    if problems:
        raise pytest.UsageError("unknown requirement ids on markers:\n" + "\n".join(problems))
    record = config.stash[_KEY]
    for item in items:
        ids = marked_ids(item)
        if ids:
            record.tests[item.nodeid] = ids


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # the plugin is per process; the record of the one config in it
    record = _CURRENT.get("record")
    if record is None or report.nodeid not in record.tests:
        return
    previous = record.outcomes.get(report.nodeid, "passed")
    if report.failed:
        record.outcomes[report.nodeid] = "failed"
    elif report.skipped and previous != "failed":
        record.outcomes[report.nodeid] = "skipped"
    else:
        record.outcomes[report.nodeid] = previous


_CURRENT: dict[str, _Record] = {}


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CURRENT["record"] = session.config.stash[_KEY]


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption(OPTION)
    _CURRENT.pop("record", None)
    if not path:
        return
    record = session.config.stash[_KEY]
    document: dict[str, Any] = {
        "tests": {
            node: {"requirements": ids, "outcome": record.outcomes.get(node, "not run")}
            for node, ids in sorted(record.tests.items())
        }
    }
    Path(path).write_text(json.dumps(document, indent=2), encoding="utf-8")
