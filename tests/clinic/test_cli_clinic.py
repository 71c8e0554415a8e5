"""`microamp screen`, `plan` and `care` keep their command-line contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from clinic.samples import cleared_answers
from microamp.cli.main import app

runner = CliRunner()


def write(tmp_path: Path, answers: Any) -> str:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, "cleared"),
        ({"pregnant": True}, "contraindicated"),
        ({"heart_condition": True}, "clearance_required"),
    ],
)
def test_screen_exits_0_whatever_the_outcome(
    tmp_path: Path, changes: dict[str, Any], outcome: str
) -> None:
    result = runner.invoke(
        app, ["screen", write(tmp_path, cleared_answers(**changes)), "--on", "2026-11-21", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["outcome"] == outcome
    assert {"reasons", "deferred_until", "avoid_zones", "rules_version"} <= set(document)


def test_screen_json_reports_deferral_and_zones(tmp_path: Path) -> None:
    answers = cleared_answers(last_injectables_date="2026-11-20", skin_conditions_zones=["chin"])
    result = runner.invoke(
        app, ["screen", write(tmp_path, answers), "--on", "2026-11-21", "--json"]
    )
    document = json.loads(result.stdout)
    assert document["deferred_until"] == "2026-12-04"
    assert document["avoid_zones"] == ["chin"]
    assert {r["rule_id"] for r in document["reasons"]} == {
        "recent_injectables",
        "skin_condition_in_zone",
    }


@pytest.mark.parametrize(
    ("answers", "named"),
    [
        (cleared_answers(pregnant="no"), "pregnant"),
        ({k: v for k, v in cleared_answers().items() if k != "diabetes"}, "diabetes"),
        (cleared_answers(last_injectables_date="2026-02-30"), "last_injectables_date"),
        (cleared_answers(tattoos=True), "tattoos"),
    ],
)
def test_screen_bad_answers_exit_2_naming_the_key(tmp_path: Path, answers: Any, named: str) -> None:
    result = runner.invoke(app, ["screen", write(tmp_path, answers)])
    assert result.exit_code == 2
    assert named in result.stderr and "Traceback" not in result.output


def test_screen_unreadable_or_invalid_json_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    for path in (str(broken), str(tmp_path / "missing.json")):
        result = runner.invoke(app, ["screen", path])
        assert result.exit_code == 2 and "ANSWERS" in result.stderr


def test_plan_json_has_sessions_phases_and_cost() -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "--template",
            "clinic-initial",
            "--start",
            "2026-11-23",
            "--weekdays",
            "mon,thu",
            "--months",
            "3",
            "--price",
            "120",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    sessions = document["sessions"]
    assert sessions[0] == {"number": 1, "date": "2026-11-23", "phase": "initial", "checkin": False}
    assert {s["phase"] for s in sessions} == {"initial", "maintenance"}
    assert document["estimated_cost"] == 120.0 * len(sessions)


def test_plan_without_a_price_has_no_cost() -> None:
    result = runner.invoke(
        app, ["plan", "--template", "intensive", "--start", "2026-11-23", "--json"]
    )
    assert "estimated_cost" not in json.loads(result.stdout)


def test_plan_writes_an_ics_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    result = runner.invoke(
        app, ["plan", "--template", "weekly-series", "--start", "2026-11-23", "--ics", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert len(list(Calendar.from_ical(target.read_bytes()).walk("VEVENT"))) >= 12


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--template", "daily", "--start", "2026-11-23"], "--template"),
        (["--template", "intensive", "--start", "2026-11-31"], "--start"),
        (
            ["--template", "intensive", "--start", "2026-11-23", "--weekdays", "mon,xyz"],
            "--weekdays",
        ),
        (["--template", "intensive", "--start", "2026-11-23", "--price", "-5"], "--price"),
        (["--template", "intensive", "--start", "2026-11-23", "--json", "--ics", "x.ics"], "--ics"),
    ],
)
def test_plan_bad_input_exits_2_naming_the_option(args: list[str], named: str) -> None:
    result = runner.invoke(app, ["plan", *args])
    assert result.exit_code == 2
    assert named in result.stderr


@pytest.mark.parametrize("kind", ["pre", "post"])
def test_care_prints_text_and_html(kind: str) -> None:
    text = runner.invoke(app, ["care", kind])
    page = runner.invoke(app, ["care", kind, "--html"])
    assert text.exit_code == 0 and page.exit_code == 0
    assert "microcurrent session" in text.stdout and page.stdout.startswith("<!doctype html>")
