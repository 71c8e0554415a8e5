"""Screening: every rule from both sides, worst outcome wins, each reason cites its answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clinic.samples import SCREEN_DAY, cleared_answers
from microamp.clinic.rules import DEFAULT_RULES_PATH, Outcome, load_rules, rules_from_dict
from microamp.clinic.screening import add_years, screen
from microamp.errors import InvalidValue, InvalidValues
from microamp.safety.limits import ZONES

# rule id -> (answers that fire it, answers just on the other side, outcome)
RULE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], Outcome]] = {
    "pregnancy": ({"pregnant": True}, {"pregnant": False}, Outcome.CONTRAINDICATED),
    "breastfeeding": ({"breastfeeding": True}, {"breastfeeding": False}, Outcome.CONTRAINDICATED),
    "implanted_device": (
        {"pacemaker_or_implanted_device": True},
        {"pacemaker_or_implanted_device": False},
        Outcome.CONTRAINDICATED,
    ),
    "heart_condition": (
        {"heart_condition": True},
        {"heart_condition": False},
        Outcome.CLEARANCE_REQUIRED,
    ),
    "epilepsy": (
        {"epilepsy_or_seizures": True},
        {"epilepsy_or_seizures": False},
        Outcome.CONTRAINDICATED,
    ),
    "cancer_treatment": (
        {"cancer_treatment": True},
        {"cancer_treatment": False},
        Outcome.CONTRAINDICATED,
    ),
    "thrombosis": (
        {"thrombosis_or_phlebitis": True},
        {"thrombosis_or_phlebitis": False},
        Outcome.CONTRAINDICATED,
    ),
    "bleeding": (
        {"bleeding_disorder_or_heavy_bleeding": True},
        {"bleeding_disorder_or_heavy_bleeding": False},
        Outcome.CONTRAINDICATED,
    ),
    "diabetes": ({"diabetes": True}, {"diabetes": False}, Outcome.CAUTION),
    "metal_in_zone": (
        {"metal_in_face_zones": ["jawline"]},
        {"metal_in_face_zones": []},
        Outcome.CAUTION,
    ),
    "skin_condition_in_zone": (
        {"skin_conditions_zones": ["chin"]},
        {"skin_conditions_zones": []},
        Outcome.CAUTION,
    ),
    "no_zone_left": (
        {"metal_in_face_zones": list(ZONES[:5]), "skin_conditions_zones": list(ZONES[4:])},
        {"metal_in_face_zones": list(ZONES[:5]), "skin_conditions_zones": list(ZONES[5:-1])},
        Outcome.CONTRAINDICATED,
    ),
    # 18 on 2026-11-22 (fires) / 18 on the screening day itself (does not)
    "under_18": (
        {"date_of_birth": "2008-11-22"},
        {"date_of_birth": "2008-11-21"},
        Outcome.DEFERRED,
    ),
    # 13 days before (fires) / exactly 14 days before (does not)
    "recent_injectables": (
        {"last_injectables_date": "2026-11-08"},
        {"last_injectables_date": "2026-11-07"},
        Outcome.DEFERRED,
    ),
    "recent_facial_procedure": (
        {"last_facial_procedure_date": "2026-11-08"},
        {"last_facial_procedure_date": "2026-11-07"},
        Outcome.DEFERRED,
    ),
}


def fired(answers: dict[str, Any], **kwargs: Any) -> dict[str, Outcome]:
    result = screen(answers, on=SCREEN_DAY, **kwargs)
    return {reason.rule_id: reason.outcome for reason in result.reasons}


def test_every_packaged_rule_has_a_case() -> None:
    assert {rule.id for rule in load_rules().rules} == set(RULE_CASES)


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_fires_on_its_side(rule_id: str) -> None:
    firing, _, outcome = RULE_CASES[rule_id]
    assert fired(cleared_answers(**firing)).get(rule_id) == outcome


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_stays_quiet_on_the_other_side(rule_id: str) -> None:
    _, quiet, _ = RULE_CASES[rule_id]
    assert rule_id not in fired(cleared_answers(**quiet))


def test_nothing_to_report_is_cleared() -> None:
    result = screen(cleared_answers(), on=SCREEN_DAY)
    assert result.outcome is Outcome.CLEARED
    assert result.reasons == () and result.avoid_zones == () and result.deferred_until is None


def test_the_worst_outcome_wins_and_every_reason_is_kept() -> None:
    result = screen(
        cleared_answers(
            diabetes=True, heart_condition=True, pregnant=True, last_injectables_date="2026-11-20"
        ),
        on=SCREEN_DAY,
    )
    assert result.outcome is Outcome.CONTRAINDICATED
    assert [r.outcome for r in result.reasons] == [
        Outcome.CONTRAINDICATED,
        Outcome.CLEARANCE_REQUIRED,
        Outcome.DEFERRED,
        Outcome.CAUTION,
    ]
    assert result.deferred_until == date(2026, 12, 4)


def test_reasons_cite_the_answers_that_produced_them() -> None:
    result = screen(cleared_answers(pregnant=True, metal_in_face_zones=["cheeks"]), on=SCREEN_DAY)
    cited = {r.rule_id: r.answers for r in result.reasons}
    assert cited == {
        "pregnancy": {"pregnant": True},
        "metal_in_zone": {"metal_in_face_zones": ["cheeks"]},
    }


def test_cautions_gather_zones_to_avoid_in_face_order() -> None:
    result = screen(
        cleared_answers(metal_in_face_zones=["neck"], skin_conditions_zones=["chin", "forehead"]),
        on=SCREEN_DAY,
    )
    assert result.outcome is Outcome.CAUTION
    assert result.avoid_zones == ("forehead", "chin", "neck")


def test_deferral_lasts_until_the_latest_wait_ends() -> None:
    result = screen(
        cleared_answers(
            last_injectables_date="2026-11-10", last_facial_procedure_date="2026-11-15"
        ),
        on=SCREEN_DAY,
    )
    assert result.outcome is Outcome.DEFERRED
    assert result.deferred_until == date(2026, 11, 29)
    assert any("2026-11-29" in r.message for r in result.reasons)


def test_the_wait_is_configurable() -> None:
    answers = cleared_answers(last_injectables_date="2026-11-01")
    assert "recent_injectables" not in fired(answers)
    assert fired(answers, procedure_wait_days=30)["recent_injectables"] is Outcome.DEFERRED
    with pytest.raises(InvalidValue, match="procedure_wait_days"):
        screen(answers, on=SCREEN_DAY, procedure_wait_days=0)


def test_a_minor_is_deferred_until_the_18th_birthday() -> None:
    result = screen(cleared_answers(date_of_birth="2010-02-28"), on=SCREEN_DAY)
    assert result.outcome is Outcome.DEFERRED
    assert result.deferred_until == date(2028, 2, 28)


def test_a_leap_day_birthday_comes_of_age_on_the_first_of_march() -> None:
    assert add_years(date(2008, 2, 29), 18) == date(2026, 3, 1)


def test_screening_result_json_has_the_contract_keys() -> None:
    document = screen(cleared_answers(heart_condition=True), on=SCREEN_DAY).to_dict()
    assert {"outcome", "reasons", "deferred_until", "avoid_zones", "rules_version"} <= set(document)
    assert {"rule_id", "outcome", "message"} <= set(document["reasons"][0])
    assert document["rules_version"] == load_rules().version


def test_a_rules_file_with_mistakes_names_each_one(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(
        'version = "x"\nprocedure_wait_days = 0\n'
        '[[rules]]\nid = "a"\ncheck = "answer_true"\nanswer = "smoker"\noutcome = "maybe"\nmessage = "m"\nsource = "s"\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidValues) as caught:
        load_rules(bad)
    assert {e.field for e in caught.value.errors} == {
        "procedure_wait_days",
        "rules[0].answer",
        "rules[0].outcome",
    }


def test_a_clinic_may_ship_its_own_rules_with_a_longer_wait() -> None:
    import tomllib

    data = tomllib.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    data["version"] = "clinic-1"
    data["procedure_wait_days"] = 30
    rules = rules_from_dict(data)
    result = screen(cleared_answers(last_injectables_date="2026-11-01"), on=SCREEN_DAY, rules=rules)
    assert result.rules_version == "clinic-1"
    assert result.deferred_until == date(2026, 12, 1)
