"""Requirement -> test traceability, from the ``requirement`` markers of a test tree.

`collect_tests` runs pytest in a subprocess on the tree (collect only, or running the marked
tests) with `microamp.evidence.pytest_plugin`, and `Traceability` joins what it found to the
register: the tests of each requirement, and the requirements no passing test verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from microamp.errors import InvalidValue, MicroampError
from microamp.evidence.register import REGISTER, Register

__all__ = ["CollectionFailed", "TestRecord", "Traceability", "collect_tests"]

PLUGIN = "microamp.evidence.pytest_plugin"
# pytest's exit codes that still leave a complete record: all passed, some failed, none collected
_RECORDED_EXITS = (0, 1, 5)


class CollectionFailed(MicroampError):
    """pytest could not collect the tree (an unknown requirement id, an import error)."""


@dataclass(frozen=True, slots=True)
class TestRecord:
    """One marked test: its node id, the requirements it verifies, its outcome (or "not run")."""

    node_id: str
    requirements: tuple[str, ...]
    outcome: str


@dataclass(frozen=True, slots=True)
class Traceability:
    register: Register
    tests: tuple[TestRecord, ...] = field(default_factory=tuple)

    def tests_of(self, requirement_id: str) -> tuple[TestRecord, ...]:
        return tuple(t for t in self.tests if requirement_id in t.requirements)

    def untested(self) -> list[str]:
        """Requirements no test is marked for."""
        return [r for r in self.register.ids if not self.tests_of(r)]

    def failing(self) -> list[str]:
        """Requirements with a marked test that ran and failed."""
        return [
            r for r in self.register.ids if any(t.outcome == "failed" for t in self.tests_of(r))
        ]

    def problems(self) -> list[str]:
        """One line per requirement the evidence does not support."""
        lines = [f"{r}: no test is marked requirement({r!r})" for r in self.untested()]
        lines += [f"{r}: a test marked for it failed" for r in self.failing()]
        return lines


def collect_tests(
    tests_dir: Path,
    *,
    run: bool,
    register: Register = REGISTER,
    progress: Callable[[str], None] = lambda _message: None,
) -> Traceability:
    """The marked tests of ``tests_dir`` (run when ``run``).

    Raises `InvalidValue` for a folder that is not there, `CollectionFailed` when pytest fails.
    """
    if not tests_dir.is_dir():
        raise InvalidValue(
            "tests", str(tests_dir), "is not a test folder: run from a source checkout or pass one"
        )
    with tempfile.TemporaryDirectory(prefix="microamp-evidence-") as scratch:
        out = Path(scratch) / "tests.json"
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", PLUGIN,
            f"--evidence-json={out}", str(tests_dir.resolve()),
        ]  # fmt: skip
        command += ["-m", "requirement"] if run else ["--collect-only"]
        progress(("running" if run else "collecting") + f" the marked tests in {tests_dir}")
        result = subprocess.run(
            command,
            cwd=tests_dir.resolve().parent,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        if result.returncode not in _RECORDED_EXITS or not out.exists():
            tail = (result.stdout + result.stderr).strip().splitlines()[-12:]
            raise CollectionFailed("pytest failed on the test tree:\n" + "\n".join(tail))
        document = json.loads(out.read_text(encoding="utf-8"))
    records = tuple(
        TestRecord(node, tuple(entry["requirements"]), entry["outcome"])
        for node, entry in document["tests"].items()
    )
    return Traceability(register, records)
