"""The shipped library: six or more example protocols, each within its profile and DOMAIN ranges."""

from __future__ import annotations

import re

import pytest

from microamp.protocols import MUSCLES, PlannedStep, library_names, load_protocol, plan_protocol
from microamp.safety import get_profile
from microamp.safety.limits import ZONES

REQUIRED = {
    "home-express",
    "home-full",
    "pro-lift",
    "pro-express",
    "lymphatic-drainage",
    "eye-area",
}
# Words that would claim an effect; the library describes what is done, never what it achieves.
CLAIMS = re.compile(
    r"\b(cure|heal|treats?|reduces?|removes?|erases?|anti-aging|younger|proven)\b", re.I
)


def planned(name: str) -> list[PlannedStep]:
    protocol = load_protocol(name)
    profile = get_profile("professional" if protocol.audience == "professional" else "home")
    return plan_protocol(protocol, profile)


def minutes(steps: list[PlannedStep]) -> float:
    return sum(s.duration_s for s in steps) / 60


def test_the_library_holds_the_six_required_protocols() -> None:
    assert REQUIRED <= set(library_names())


@pytest.mark.parametrize("name", library_names())
def test_each_library_protocol_validates_against_its_audience_profile(name: str) -> None:
    protocol = load_protocol(name)
    profile = get_profile("professional" if protocol.audience == "professional" else "home")
    assert load_protocol(name, profile).name == name
    assert minutes(planned(name)) * 60 <= profile.max_session_s.value


@pytest.mark.parametrize("name", library_names())
def test_each_library_protocol_is_labelled_an_example_without_claims(name: str) -> None:
    protocol = load_protocol(name)
    assert protocol.example
    assert "example" in protocol.description.lower()
    assert not CLAIMS.search(protocol.description + protocol.title)
    assert all(not CLAIMS.search(step.cue) for step in protocol.steps)


def test_home_express_takes_about_five_minutes() -> None:
    assert 4.0 <= minutes(planned("home-express")) <= 6.0


def test_home_full_stays_within_the_home_twenty_minutes() -> None:
    assert 10.0 <= minutes(planned("home-full")) <= 20.0


def test_pro_express_takes_about_fifteen_minutes() -> None:
    assert 12.0 <= minutes(planned("pro-express")) <= 18.0


def test_pro_lift_runs_45_to_60_minutes_over_at_least_25_muscles_bottom_up() -> None:
    steps = planned("pro-lift")
    assert 45.0 <= minutes(steps) <= 60.0
    muscles = {s.muscle for s in steps if s.muscle and MUSCLES[s.muscle].kind == "muscle"}
    assert len(muscles) >= 25
    # bottom-up: the working (non-lymph) steps never go back down the face
    bottom_up = ("neck", "jawline", "chin", "mouth", "cheeks", "nose", "eyes", "brows", "forehead")
    assert set(bottom_up) == set(ZONES)
    heights = {zone: rank for rank, zone in enumerate(bottom_up)}
    working = [heights[s.zone] for s in steps if s.technique != "lymph"]
    assert working == sorted(working)
    assert working[0] == heights["neck"] and working[-1] == heights["forehead"]


def test_eye_area_never_asks_for_more_than_200_ua() -> None:
    steps = planned("eye-area")
    assert max(s.requested_ua for s in steps) <= 200.0
    assert {"eyes", "brows"} <= {s.zone for s in steps}


def test_lymphatic_drainage_is_low_current_lymph_strokes_that_open_at_the_collarbone() -> None:
    steps = planned("lymphatic-drainage")
    assert steps[0].muscle == steps[-1].muscle == "supraclavicular-region"
    assert all(s.technique == "lymph" for s in steps)
    assert max(s.requested_ua for s in steps) <= 200.0


@pytest.mark.parametrize("name", library_names())
def test_library_protocols_never_lift_a_muscle_that_is_only_lengthened(name: str) -> None:
    for step in planned(name):
        if step.muscle and MUSCLES[step.muscle].lengthen_only:
            assert step.technique in ("lengthen", "lymph")
