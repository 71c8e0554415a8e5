"""The gate: no current without a screening that allows it and a consent on file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from clinic.samples import SCREEN_DAY, cleared_answers
from microamp.clinic.consent import current_consent_version
from microamp.clinic.gate import gate
from microamp.clinic.screening import screen
from microamp.errors import SessionRefused


@dataclass(frozen=True)
class Signed:
    text_version: str
    signed_at: datetime = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cleared:
    issued_on: date
    valid_until: date | None = None
    rule_ids: list[str] = field(default_factory=list)


CONSENT = [Signed(current_consent_version())]


def codes(decision: object) -> list[str]:
    return [r.code for r in decision.refusals]  # type: ignore[attr-defined]


def test_a_cleared_client_with_consent_is_allowed() -> None:
    decision = gate(
        screen(cleared_answers(), on=SCREEN_DAY), consents=CONSENT, clearances=[], on=SCREEN_DAY
    )
    assert decision.allowed
    decision.raise_if_refused()


@pytest.mark.requirement("SAF-GATE-01")
def test_a_contraindicated_client_is_refused_whatever_is_on_file() -> None:
    result = screen(cleared_answers(pregnant=True), on=SCREEN_DAY)
    decision = gate(result, consents=CONSENT, clearances=[Cleared(SCREEN_DAY)], on=SCREEN_DAY)
    assert codes(decision) == ["contraindicated"]
    with pytest.raises(SessionRefused) as caught:
        decision.raise_if_refused()
    assert caught.value.reasons == ["Pregnant: no microcurrent treatment during pregnancy."]


@pytest.mark.requirement("SAF-GATE-02")
def test_no_consent_on_file_is_refused() -> None:
    decision = gate(
        screen(cleared_answers(), on=SCREEN_DAY), consents=[], clearances=[], on=SCREEN_DAY
    )
    assert codes(decision) == ["no_consent"]


@pytest.mark.requirement("SAF-GATE-02")
def test_a_consent_to_an_older_text_is_refused() -> None:
    decision = gate(
        screen(cleared_answers(), on=SCREEN_DAY),
        consents=[Signed("2019.1")],
        clearances=[],
        on=SCREEN_DAY,
    )
    assert codes(decision) == ["consent_outdated"]
    assert "2019.1" in decision.reasons[0]


def test_a_deferred_client_is_refused_until_the_day_then_allowed() -> None:
    result = screen(cleared_answers(last_facial_procedure_date="2026-11-20"), on=SCREEN_DAY)
    assert codes(gate(result, consents=CONSENT, clearances=[], on=date(2026, 12, 3))) == [
        "deferred"
    ]
    assert gate(result, consents=CONSENT, clearances=[], on=date(2026, 12, 4)).allowed


def test_clearance_required_is_refused_until_a_valid_clearance_is_recorded() -> None:
    result = screen(cleared_answers(heart_condition=True), on=SCREEN_DAY)
    assert codes(gate(result, consents=CONSENT, clearances=[], on=SCREEN_DAY)) == [
        "clearance_missing"
    ]
    expired = Cleared(date(2025, 1, 1), valid_until=date(2025, 12, 31))
    other_rule = Cleared(date(2026, 11, 1), rule_ids=["diabetes"])
    future = Cleared(SCREEN_DAY + timedelta(days=1))
    for clearance in (expired, other_rule, future):
        assert not gate(result, consents=CONSENT, clearances=[clearance], on=SCREEN_DAY).allowed
    for clearance in (
        Cleared(date(2026, 11, 1)),
        Cleared(date(2026, 11, 1), rule_ids=["heart_condition"]),
    ):
        assert gate(result, consents=CONSENT, clearances=[clearance], on=SCREEN_DAY).allowed


def test_every_refusal_is_listed_at_once() -> None:
    result = screen(
        cleared_answers(heart_condition=True, last_injectables_date="2026-11-20"), on=SCREEN_DAY
    )
    assert codes(gate(result, consents=[], clearances=[], on=SCREEN_DAY)) == [
        "clearance_missing",
        "deferred",
        "no_consent",
    ]


def test_caution_is_allowed_with_zones_to_avoid() -> None:
    result = screen(cleared_answers(skin_conditions_zones=["mouth"]), on=SCREEN_DAY)
    decision = gate(result, consents=CONSENT, clearances=[], on=SCREEN_DAY)
    assert decision.allowed and decision.avoid_zones == ("mouth",)
    assert decision.to_dict()["avoid_zones"] == ["mouth"]


@pytest.mark.requirement("SAF-GATE-03")
def test_no_screening_or_a_stale_one_is_refused() -> None:
    assert codes(gate(None, consents=CONSENT, clearances=[], on=SCREEN_DAY)) == ["no_screening"]
    result = screen(cleared_answers(), on=date(2025, 1, 1))
    assert codes(gate(result, consents=CONSENT, clearances=[], on=SCREEN_DAY)) == [
        "screening_expired"
    ]
