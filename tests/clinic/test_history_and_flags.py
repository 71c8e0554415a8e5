"""Dates in the past, answer changes between intake versions, and the gate on kept flags."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from clinic.samples import SCREEN_DAY, cleared_answers
from microamp.cli.main import app
from microamp.clinic.consent import current_consent_version
from microamp.clinic.dates import not_in_future
from microamp.clinic.gate import gate
from microamp.clinic.history import answer_changes
from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.clinic.screening import screen
from microamp.errors import InvalidValue


@dataclass(frozen=True)
class Signed:
    text_version: str
    signed_at: datetime = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Flag:
    rule_id: str
    outcome: str
    message: str = "found before"
    raised_on: date = date(2026, 1, 5)


@dataclass(frozen=True)
class Cleared:
    rule_ids: tuple[str, ...]
    issued_on: date = date(2026, 2, 1)
    valid_until: date | None = None


CONSENT = [Signed(current_consent_version())]


def test_today_is_not_in_the_future_and_tomorrow_is() -> None:
    assert not_in_future("on", SCREEN_DAY, today=SCREEN_DAY) == SCREEN_DAY
    with pytest.raises(InvalidValue) as caught:
        not_in_future("taken_on", SCREEN_DAY + timedelta(days=1), today=SCREEN_DAY)
    assert caught.value.field == "taken_on"


def test_answer_changes_name_each_question_with_was_and_now() -> None:
    before = cleared_answers(pacemaker_or_implanted_device=True, metal_in_face_zones=["chin"])
    after = cleared_answers(metal_in_face_zones=["chin"], last_injectables_date="2026-10-01")
    assert [c.to_dict() for c in answer_changes(before, after)] == [
        {"question": "pacemaker_or_implanted_device", "was": True, "now": False},
        {"question": "last_injectables_date", "was": None, "now": "2026-10-01"},
    ]
    assert answer_changes(None, after) == []
    assert answer_changes(after, dict(after)) == []


@pytest.mark.requirement("SAF-GATE-04")
def test_a_flag_refuses_even_when_the_latest_screening_is_cleared() -> None:
    decision = gate(
        screen(cleared_answers(), on=SCREEN_DAY),
        consents=CONSENT,
        clearances=[],
        flags=[Flag("implanted_device", "contraindicated")],
        on=SCREEN_DAY,
    )
    assert [(r.code, r.rule_id) for r in decision.refusals] == [
        ("contraindicated", "implanted_device")
    ]
    assert str(decision.outcome) == "contraindicated"


def test_a_flag_the_latest_screening_found_again_is_said_once() -> None:
    decision = gate(
        screen(cleared_answers(pregnant=True), on=SCREEN_DAY),
        consents=CONSENT,
        clearances=[],
        flags=[Flag("pregnancy", "contraindicated")],
        on=SCREEN_DAY,
    )
    assert [r.rule_id for r in decision.refusals] == ["pregnancy"]


def test_a_clearance_requirement_flag_is_met_by_a_valid_clearance_for_its_rule() -> None:
    flags = [Flag("heart_condition", "clearance_required")]
    result = screen(cleared_answers(), on=SCREEN_DAY)
    refused = gate(result, consents=CONSENT, clearances=[], flags=flags, on=SCREEN_DAY)
    assert [r.code for r in refused.refusals] == ["clearance_missing"]
    cleared = gate(result, consents=CONSENT, clearances=[Cleared(("heart_condition",))],
                   flags=flags, on=SCREEN_DAY)  # fmt: skip
    assert cleared.allowed


@given(
    answers=st.fixed_dictionaries({key: st.booleans() for key in BOOLEAN_KEYS}),
    flagged=st.sets(
        st.sampled_from(["pregnancy", "implanted_device", "epilepsy", "cancer_treatment"]),
        min_size=1,
    ),
)
def test_every_contraindication_flag_refuses_whatever_the_latest_answers(
    answers: dict[str, bool], flagged: set[str]
) -> None:
    decision = gate(
        screen(cleared_answers(**answers), on=SCREEN_DAY),
        consents=CONSENT,
        clearances=[Cleared(tuple(flagged))],
        flags=[Flag(rule_id, "contraindicated") for rule_id in sorted(flagged)],
        on=SCREEN_DAY,
    )
    assert not decision.allowed
    refused = {r.rule_id for r in decision.refusals if r.code == "contraindicated"}
    assert flagged <= refused


def test_a_screening_preview_dated_tomorrow_exits_2_naming_on(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(cleared_answers()), encoding="utf-8")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    result = CliRunner().invoke(app, ["screen", str(path), "--on", tomorrow])
    assert result.exit_code == 2
    assert "on:" in result.stderr and "future" in result.stderr
