"""Adaptive intensity: which frames are judged, how far it drops and restores, what it explains."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.safety.adaptive import AdaptiveIntensity
from microamp.safety.constraints import Layer


@dataclass(frozen=True)
class Frame:
    t_s: float
    commanded_ua: float
    impedance_ohm: float


# at the default 20 V comfort bound and 400 µA, 100 kΩ allows 200 µA: half the chosen level
DRY_OHM = 1e5
WET_OHM = 1e4


def test_a_new_adaptive_layer_leaves_the_chosen_level_alone() -> None:
    adaptive = AdaptiveIntensity()

    assert adaptive.cap == 1.0
    assert adaptive.intensity(0.8) == 0.8


def test_dry_skin_lowers_the_cap_to_what_the_comfort_voltage_allows() -> None:
    adaptive = AdaptiveIntensity()

    change = adaptive.observe([Frame(2.0, 400.0, DRY_OHM)], 1.0, 400.0)

    assert adaptive.cap == 0.5
    assert change is not None
    assert (change.t_s, change.from_intensity, change.to_intensity, change.impedance_ohm) == (
        2.0,
        1.0,
        0.5,
        DRY_OHM,
    )


def test_the_adjustment_explains_itself_as_the_adaptive_layer_with_its_numbers() -> None:
    change = AdaptiveIntensity().observe([Frame(2.0, 400.0, DRY_OHM)], 1.0, 400.0)

    assert change is not None
    assert change.constraint.name == "intensity"
    assert change.constraint.binding is not None
    assert change.constraint.binding.layer is Layer.ADAPTIVE
    assert change.constraint.binding.source == "adaptive intensity (FOREO-style anti-shock)"
    assert change.reason == (
        "intensity is capped at 0.5 (requested 1) by the adaptive limit: skin impedance "
        "100000 ohm needs 40.0 V at the chosen level; kept under the 20 V comfort bound, "
        "restored at most 50 µA/s [source: adaptive intensity (FOREO-style anti-shock)]"
    )


def test_the_cap_comes_back_no_faster_than_the_restore_rate_and_never_past_one() -> None:
    adaptive = AdaptiveIntensity()
    adaptive.observe([Frame(0.0, 400.0, DRY_OHM)], 1.0, 400.0)

    adaptive.observe([Frame(1.0, 400.0, WET_OHM)], 1.0, 400.0)
    after_one_s = adaptive.cap
    adaptive.observe([Frame(10.0, 400.0, WET_OHM)], 1.0, 400.0)

    assert after_one_s == pytest.approx(0.5 + 50.0 / 400.0)
    assert adaptive.cap == 1.0


def test_under_a_microamp_the_restore_step_is_measured_against_the_amplitude() -> None:
    adaptive = AdaptiveIntensity()
    adaptive.observe([Frame(0.0, 400.0, 8e7)], 1.0, 0.5)

    adaptive.observe([Frame(0.001, 400.0, 1.0)], 1.0, 0.5)

    assert adaptive.cap == pytest.approx(0.5 + 50.0 * 0.001 / 0.5)


def test_frames_below_the_judged_current_or_without_an_impedance_are_ignored() -> None:
    adaptive = AdaptiveIntensity()

    change = adaptive.observe([Frame(1.0, 19.9, DRY_OHM), Frame(2.0, 400.0, math.nan)], 1.0, 400.0)

    assert change is None
    assert adaptive.cap == 1.0


def test_a_frame_at_exactly_the_judged_current_is_judged() -> None:
    adaptive = AdaptiveIntensity()

    adaptive.observe([Frame(1.0, 20.0, DRY_OHM)], 1.0, 400.0)

    assert adaptive.cap == 0.5


def test_an_ignored_frame_does_not_stop_the_frames_after_it_from_being_judged() -> None:
    adaptive = AdaptiveIntensity()

    change = adaptive.observe([Frame(1.0, 5.0, DRY_OHM), Frame(2.0, 400.0, DRY_OHM)], 1.0, 400.0)

    assert change is not None and change.t_s == 2.0


@pytest.mark.parametrize("impedance_ohm", [0.0, -5.0])
def test_a_zero_or_negative_impedance_never_lifts_the_cap_above_one(impedance_ohm: float) -> None:
    adaptive = AdaptiveIntensity()

    adaptive.observe([Frame(t, 400.0, impedance_ohm) for t in (0.0, 5.0, 10.0)], 1.0, 400.0)

    assert adaptive.cap == 1.0


def test_a_zero_amplitude_leaves_the_cap_at_one() -> None:
    adaptive = AdaptiveIntensity()

    adaptive.observe([Frame(0.0, 400.0, DRY_OHM), Frame(5.0, 400.0, DRY_OHM)], 1.0, 0.0)

    assert adaptive.cap == 1.0


def test_a_change_smaller_than_the_minimum_step_is_not_reported() -> None:
    adaptive = AdaptiveIntensity()
    # 20 V over 100.5 kΩ allows 199 µA of 200: a 0.5 % change
    change = adaptive.observe([Frame(1.0, 400.0, 100_502.5)], 1.0, 200.0)

    assert change is None
    assert adaptive.cap < 1.0


def test_a_change_of_exactly_the_minimum_step_is_reported() -> None:
    adaptive = AdaptiveIntensity(min_step=0.5)

    assert adaptive.observe([Frame(1.0, 400.0, DRY_OHM)], 1.0, 400.0) is not None


def test_the_minimum_step_is_a_fraction_of_the_chosen_level() -> None:
    adaptive = AdaptiveIntensity()
    # chosen 0.5: the cap falls to 0.493, a change of 0.007, more than 1 % of 0.5
    change = adaptive.observe([Frame(1.0, 400.0, 20 / (0.493 * 400e-6))], 0.5, 400.0)

    assert change is not None
    assert change.to_intensity == pytest.approx(0.493)


def test_with_no_minimum_step_and_no_frames_there_is_no_adjustment() -> None:
    assert AdaptiveIntensity(min_step=0.0).observe([], 1.0, 400.0) is None


@given(
    impedances=st.lists(st.floats(0, 1e7), min_size=1, max_size=10),
    chosen=st.floats(0, 1),
)
def test_the_output_never_exceeds_the_chosen_level_nor_the_cap_one(
    impedances: list[float], chosen: float
) -> None:
    adaptive = AdaptiveIntensity()

    adaptive.observe([Frame(float(i), 400.0, z) for i, z in enumerate(impedances)], chosen, 400.0)

    assert 0.0 <= adaptive.cap <= 1.0
    assert adaptive.intensity(chosen) <= chosen


def test_reset_lifts_the_cap_and_restores_from_the_frames_after_it() -> None:
    adaptive = AdaptiveIntensity()
    adaptive.observe([Frame(0.0, 400.0, DRY_OHM)], 1.0, 400.0)

    adaptive.reset()
    lifted = adaptive.cap
    adaptive.observe([Frame(100.0, 400.0, DRY_OHM)], 1.0, 400.0)
    adaptive.observe([Frame(101.0, 400.0, WET_OHM)], 1.0, 400.0)

    assert lifted == 1.0
    assert adaptive.cap == pytest.approx(0.5 + 50.0 / 400.0)


def test_an_adjustment_as_a_dict_carries_its_times_levels_reason_and_constraint() -> None:
    change = AdaptiveIntensity().observe([Frame(2.0, 400.0, DRY_OHM)], 1.0, 400.0)

    assert change is not None
    assert change.to_dict() == {
        "t_s": 2.0,
        "from_intensity": 1.0,
        "to_intensity": 0.5,
        "impedance_ohm": DRY_OHM,
        "reason": change.reason,
        "constraint": change.constraint.to_dict(),
    }


def test_an_adjustment_with_an_unmeasured_impedance_says_none() -> None:
    change = AdaptiveIntensity().observe([Frame(2.0, 400.0, DRY_OHM)], 1.0, 400.0)
    assert change is not None

    unmeasured = replace(change, impedance_ohm=math.inf)

    assert unmeasured.to_dict()["impedance_ohm"] is None
