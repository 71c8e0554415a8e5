"""`microamp evidence`: the files it writes, and exit 1 when a requirement has no marked test."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from microamp.cli.main import app


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tests"
    tree.mkdir()
    (tree / "test_one.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.requirement('SAF-AMP-01')\n"
        "def test_peak() -> None:\n"
        "    assert True\n",
        encoding="utf-8",
    )
    return tree


def test_evidence_writes_every_file_and_fails_on_requirements_without_tests(
    tmp_path: Path,
) -> None:
    out = tmp_path / "history"
    args = ["evidence", "--out", str(out), "--tests", str(_tree(tmp_path)), "--no-tests-run"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 1
    assert "SAF-CHARGE-01: no test" in result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(json.loads(result.stdout)["files"])
    document = json.loads((out / "requirements.json").read_text(encoding="utf-8"))
    amp = next(r for r in document["requirements"] if r["id"] == "SAF-AMP-01")
    assert [t["outcome"] for t in amp["tests"]] == ["not run"]
    rows = list(csv.DictReader((out / "traceability.csv").read_text(encoding="utf-8").splitlines()))
    assert {r["requirement"] for r in rows if r["test"]} == {"SAF-AMP-01"}
    soup = list(csv.DictReader((out / "soup.csv").read_text(encoding="utf-8").splitlines()))
    assert any(r["name"] == "numpy" and "BSD" in r["licence"] for r in soup)
    assert "Lowest setting" in (out / "characterisation.html").read_text(encoding="utf-8")


def test_an_out_path_that_is_a_file_is_bad_input(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("", encoding="utf-8")
    result = CliRunner().invoke(app, ["evidence", "--out", str(taken), "--no-tests-run"])
    assert result.exit_code == 2
    assert "--out" in result.stderr
