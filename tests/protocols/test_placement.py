"""Placement is checked whatever a step names: a muscle, a zone only, a probe path or a cue."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.protocols import protocol_errors
from microamp.protocols.anatomy import MUSCLES, forbidden_at, mirror, path_crosses_head
from microamp.protocols.validate import parse_protocol, plan_protocol
from microamp.safety import get_profile
from microamp.safety.limits import ZONES

from .conftest import BASE

HOME = get_profile("home")


def with_steps(*steps: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["steps"] = list(steps)
    return data


def test_a_zone_only_neck_step_without_a_path_is_refused_at_its_probe_path() -> None:
    data = with_steps({"zone": "neck", "cue": "Hold on the neck.",
                       "waveform": {"amplitude_ua": 400.0}})  # fmt: skip
    errors = protocol_errors(data, HOME)
    assert [e.field for e in errors] == ["steps[0].probe_path"]
    assert "front of the neck" in errors[0].rule


def test_a_zone_only_eye_step_without_a_path_is_refused() -> None:
    data = with_steps({"zone": "eyes", "waveform": {"amplitude_ua": 150.0}})
    errors = protocol_errors(data, HOME)
    assert [e.field for e in errors] == ["steps[0].probe_path"]
    assert "on the eyes" in errors[0].rule


def test_a_cue_that_puts_the_probes_on_the_eyelids_is_refused_at_the_cue() -> None:
    data = with_steps(
        {
            "zone": "eyes",
            "probe_path": [[128.0, 216.0]],
            "waveform": {"amplitude_ua": 150.0},
            "cue": "One probe on each closed eyelid.",
        }  # fmt: skip
    )
    errors = protocol_errors(data, HOME)
    assert [e.field for e in errors] == ["steps[0].cue"]
    assert "eyes or eyelids" in errors[0].rule


@pytest.mark.parametrize(
    ("cue", "words"),
    [
        ("Glide down the front of the neck.", "front of the neck"),
        ("Hold one probe at each temple, across the head.", "through the head"),
        ("Rest the probes on the chest.", "across the chest"),
    ],
)
def test_cues_naming_a_forbidden_placement_are_refused(cue: str, words: str) -> None:
    data = with_steps({"muscle": "zygomaticus-major", "cue": cue})
    errors = protocol_errors(data, HOME)
    assert [e.field for e in errors] == ["steps[0].cue"]
    assert words in errors[0].rule


def test_a_cue_that_warns_away_from_a_forbidden_placement_is_kept() -> None:
    data = with_steps(
        {"muscle": "platysma", "cue": "Glide up the side, never over the front of the neck."},
        {
            "muscle": "orbicularis-oculi",
            "waveform": {"amplitude_ua": 150.0},
            "cue": "Along the bone; never on the eyelid.",
        },  # fmt: skip
    )
    assert protocol_errors(data, HOME) == []


def test_a_zone_only_neck_step_with_a_drawn_side_path_is_valid() -> None:
    data = with_steps({"zone": "neck", "probe_path": [[126.0, 478.0], [140.0, 400.0]]})
    assert protocol_errors(data, HOME) == []


def test_a_zone_only_neck_path_over_the_front_is_refused_at_its_point() -> None:
    data = with_steps({"zone": "neck", "side": "midline", "probe_path": [[200.0, 430.0]]})
    errors = protocol_errors(data, HOME)
    assert [e.field for e in errors] == ["steps[0].probe_path[0]"]
    assert "front of the neck" in errors[0].rule


# -- property: no step, however it is written, validates with a forbidden placement -------------

_points = st.lists(
    st.tuples(st.floats(0, 400, allow_nan=False), st.floats(0, 540, allow_nan=False)),
    min_size=1,
    max_size=4,
)
_cues = st.sampled_from(
    ["", "Hold.", "One probe on each closed eyelid.", "Glide down the front of the neck.",
     "Never on the lid.", "Hold at each temple, across the head.", "Rest on the chest."]
)  # fmt: skip


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    step: dict[str, Any] = {"cue": draw(_cues), "waveform": {"amplitude_ua": 150.0}}
    if draw(st.booleans()):
        step["zone"] = draw(st.sampled_from(ZONES))
        step["side"] = draw(st.sampled_from(["left", "right", "both", "midline"]))
    else:
        muscle = MUSCLES[draw(st.sampled_from(sorted(MUSCLES)))]
        step["muscle"] = muscle.name
        step["technique"] = "lengthen"
    if draw(st.booleans()):
        step["probe_path"] = [list(p) for p in draw(_points)]
    return step


def _placed(points: tuple[tuple[float, float], ...], paired: bool) -> list[tuple[float, float]]:
    return [q for p in points for q in ((p, mirror(p)) if paired else (p,))]


@given(st.lists(steps(), min_size=1, max_size=4))
def test_no_valid_step_places_probes_where_they_must_not_go(drawn: list[dict[str, Any]]) -> None:
    data = with_steps(*drawn)
    if protocol_errors(data, HOME):
        return
    for planned in plan_protocol(parse_protocol(data, HOME), HOME):
        if not planned.path_xy:
            assert planned.zone not in ("eyes", "neck"), planned
        paired = planned.side != "midline"
        assert all(forbidden_at(p) is None for p in _placed(planned.path_xy, paired)), planned
        assert not path_crosses_head(planned.path_xy), planned
        assert "eyelid" not in planned.cue.lower() or "never" in planned.cue.lower()
