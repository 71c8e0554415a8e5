"""The output guard at its edges: bad settings refused, each rule's threshold, the trip record."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.safety.faults import OPERATOR_MESSAGES, Fault, FaultCode
from microamp.safety.guard import CLAMP_TOLERANCE, GuardLimits, OutputGuard

# loose enough that only the rule under test can trip
LOOSE = GuardLimits(peak_ua=400.0, max_slew_ua_s=1e12, max_imbalance_uc=1e12)


def block(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


def guard(limits: GuardLimits = LOOSE, sample_rate_hz: float = 1000.0) -> OutputGuard:
    return OutputGuard(limits, sample_rate_hz)


@pytest.mark.parametrize("field", ["peak_ua", "max_slew_ua_s", "max_imbalance_uc"])
@pytest.mark.parametrize("value", [-1.0, math.inf, math.nan])
def test_a_negative_or_non_finite_guard_limit_is_refused_naming_it(
    field: str, value: float
) -> None:
    values = {"peak_ua": 1.0, "max_slew_ua_s": 1.0, "max_imbalance_uc": 1.0, field: value}

    with pytest.raises(InvalidValue) as caught:
        GuardLimits(**values)

    assert caught.value.field == field
    assert caught.value.value is value
    assert caught.value.rule == "must be a finite number, at least 0"


@pytest.mark.parametrize("rate_hz", [0.0, -1.0, math.inf, math.nan])
def test_a_sample_rate_that_is_not_positive_and_finite_is_refused(rate_hz: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        OutputGuard(LOOSE, rate_hz)

    assert (caught.value.field, caught.value.rule) == (
        "sample_rate_hz",
        "must be greater than 0 Hz",
    )
    assert caught.value.value is rate_hz


def test_a_sample_rate_below_one_hertz_is_allowed() -> None:
    assert OutputGuard(LOOSE, 0.5).sample_rate_hz == 0.5


def test_an_envelope_of_another_length_is_refused_naming_both_lengths() -> None:
    with pytest.raises(InvalidValue) as caught:
        guard().process(block(1.0, 2.0), block(1.0, 2.0, 3.0))

    assert (caught.value.field, caught.value.value, caught.value.rule) == (
        "envelope_ua",
        3,
        "must have 2 samples",
    )


def test_an_empty_block_passes_and_changes_nothing() -> None:
    g = guard()

    out = g.process(block(), block())

    assert out.size == 0
    assert not g.tripped
    assert g.net_charge_uc == 0.0


def test_a_new_guard_has_let_no_charge_through_and_clamped_nothing() -> None:
    g = guard()

    assert g.net_charge_uc == 0.0
    assert g.clamped_samples == 0


def test_the_charge_of_clean_blocks_adds_up_across_blocks() -> None:
    g = guard(sample_rate_hz=100.0)

    g.process(block(10.0, 10.0), block(10.0, 10.0))
    g.process(block(10.0, 10.0), block(10.0, 10.0))

    assert g.net_charge_uc == pytest.approx(0.4)


def test_a_trip_records_its_time_from_the_first_sample_ever_processed() -> None:
    g = guard(sample_rate_hz=100.0)
    g.process(block(1.0, 1.0), block(1.0, 1.0))
    g.process(block(1.0, 1.0), block(1.0, 1.0))

    g.process(block(1.0, 150.0), block(1.0, 100.0))

    assert g.fault == Fault.of(
        FaultCode.ENVELOPE_EXCEEDED,
        onset_t_s=0.05,
        detected_t_s=0.05,
        zero_t_s=0.05,
        detail={"sample_index": 5, "value_ua": 150.0},
    )


def test_a_nan_sample_is_recorded_as_text() -> None:
    g = guard()

    g.process(block(1.0, math.nan), block(1.0, 1.0))

    assert g.fault is not None
    assert g.fault.code is FaultCode.NON_FINITE
    assert g.fault.detail == {"sample_index": 1, "value_ua": "nan"}


def test_a_non_finite_envelope_trips_as_non_finite() -> None:
    g = guard()

    g.process(block(10.0), block(math.inf))

    assert g.fault is not None and g.fault.code is FaultCode.NON_FINITE


def test_infinite_samples_and_envelopes_trip_without_a_warning() -> None:
    # warnings are errors under pytest: a numpy warning here fails the test
    g = guard()

    out = g.process(block(math.inf, math.inf), block(math.inf, math.inf))

    assert g.fault is not None and g.fault.code is FaultCode.NON_FINITE
    assert out.tolist() == [0.0, 0.0]


def test_an_envelope_going_infinite_mid_block_trips_without_a_warning() -> None:
    g = guard()

    g.process(block(0.0, 0.0, 0.0), block(0.0, math.inf, math.inf))

    assert g.fault is not None and g.fault.code is FaultCode.NON_FINITE
    assert g.fault.detail["sample_index"] == 1


def test_a_huge_sample_trips_for_its_peak_without_a_warning() -> None:
    g = guard()

    g.process(block(1e308, 1e308), block(1e308, 1e308))

    assert g.fault is not None and g.fault.code is FaultCode.PEAK_EXCEEDED


def test_a_huge_sample_at_a_low_sample_rate_trips_for_its_peak_without_a_warning() -> None:
    g = guard(sample_rate_hz=0.5)

    g.process(block(1e308), block(1e308))

    assert g.fault is not None and g.fault.code is FaultCode.PEAK_EXCEEDED


def test_an_astronomical_envelope_step_trips_for_slew_without_a_warning() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1000.0, max_imbalance_uc=1e12))

    g.process(block(0.0, 0.0), block(0.0, 1e200))

    assert g.fault is not None and g.fault.code is FaultCode.SLEW_EXCEEDED


def test_rounding_overshoot_is_clamped_on_both_signs_and_counted_across_blocks() -> None:
    g = guard()
    over = 400.0 * (1 + CLAMP_TOLERANCE / 2)

    first = g.process(block(over), block(over))
    second = g.process(block(-over), block(over))

    assert not g.tripped
    assert (first.tolist(), second.tolist()) == ([400.0], [-400.0])
    assert g.clamped_samples == 2


def test_a_sample_at_the_clamp_tolerance_is_clamped_and_past_it_trips() -> None:
    at = 400.0 * (1 + CLAMP_TOLERANCE)
    clamped, tripped = guard(), guard()

    clamped.process(block(at), block(401.0))
    tripped.process(block(at + 0.5), block(401.0))

    assert not clamped.tripped
    assert tripped.fault is not None and tripped.fault.code is FaultCode.PEAK_EXCEEDED


def test_a_sample_within_the_envelope_tolerance_passes_and_past_it_trips() -> None:
    within, past = guard(), guard()

    within.process(block(100.0 + 1e-4), block(100.0))
    past.process(block(100.0 + 1e-3), block(100.0))

    assert not within.tripped
    assert past.fault is not None and past.fault.code is FaultCode.ENVELOPE_EXCEEDED


def test_under_a_sub_microamp_peak_the_envelope_tolerance_is_a_millionth_of_a_microamp() -> None:
    g = guard(GuardLimits(peak_ua=0.5, max_slew_ua_s=1e12, max_imbalance_uc=1e12))

    g.process(block(0.3), block(0.3 - 1.5e-6))

    assert g.fault is not None and g.fault.code is FaultCode.ENVELOPE_EXCEEDED


def test_an_envelope_jump_at_the_start_of_a_block_trips_for_slew_at_that_sample() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1000.0, max_imbalance_uc=1e12))
    g.process(block(0.0, 0.0), block(0.0, 0.0))

    g.process(block(100.0, 100.0, 100.0), block(100.0, 100.0, 100.0))

    assert g.fault is not None and g.fault.code is FaultCode.SLEW_EXCEEDED
    assert g.fault.detail["sample_index"] == 2


def test_an_envelope_jump_inside_a_two_sample_block_trips_for_slew() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1000.0, max_imbalance_uc=1e12))

    g.process(block(0.0, 100.0), block(0.0, 100.0))

    assert g.fault is not None and g.fault.code is FaultCode.SLEW_EXCEEDED
    assert g.fault.detail["sample_index"] == 1


def test_a_step_back_then_a_step_past_the_slew_limit_trips_at_the_second_step() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=55_000.0, max_imbalance_uc=1e12))
    g.process(block(50.0), block(50.0))

    g.process(block(50.0, 0.0, 60.0), block(50.0, 0.0, 60.0))

    assert g.fault is not None and g.fault.code is FaultCode.SLEW_EXCEEDED
    assert g.fault.detail["sample_index"] == 3


def test_when_several_rules_break_at_one_sample_the_peak_is_reported() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1000.0, max_imbalance_uc=1e12))

    g.process(block(500.0), block(500.0))

    assert g.fault is not None and g.fault.code is FaultCode.PEAK_EXCEEDED


def test_charge_let_through_earlier_counts_toward_the_imbalance_limit_later() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1e12, max_imbalance_uc=1000.0), 1.0)
    g.process(block(300.0, 300.0, 300.0), block(300.0, 300.0, 300.0))

    g.process(block(300.0), block(300.0))

    assert g.fault is not None and g.fault.code is FaultCode.CHARGE_IMBALANCE


def test_negative_charge_past_the_limit_trips_like_positive_charge() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1e12, max_imbalance_uc=1000.0), 1.0)

    g.process(block(-300.0, -300.0, -300.0, -300.0), block(300.0, 300.0, 300.0, 300.0))

    assert g.fault is not None and g.fault.code is FaultCode.CHARGE_IMBALANCE
    assert g.fault.detail["sample_index"] == 3


def test_charge_under_the_limit_on_the_exact_path_does_not_trip() -> None:
    # a rounding overshoot sends the block down the exact path
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1e12, max_imbalance_uc=1000.0), 1.0)
    over = 400.0 * (1 + CLAMP_TOLERANCE / 2)

    g.process(block(over, 300.0), block(over, 300.0))

    assert not g.tripped
    assert g.net_charge_uc == pytest.approx(700.0)


def test_the_charge_bound_holds_below_one_sample_per_second() -> None:
    g = guard(GuardLimits(peak_ua=400.0, max_slew_ua_s=1e12, max_imbalance_uc=30.0), 0.5)

    g.process(block(10.0, 10.0), block(10.0, 10.0))

    assert g.fault is not None and g.fault.code is FaultCode.CHARGE_IMBALANCE
    assert g.fault.detail["sample_index"] == 1


def test_reset_clears_the_trip_and_the_clamp_count_but_never_the_charge_account() -> None:
    g = guard()
    over = 400.0 * (1 + CLAMP_TOLERANCE / 2)
    g.process(block(over, 500.0), block(over, 500.0))
    charged_uc = g.net_charge_uc

    g.reset()

    assert not g.tripped
    assert g.clamped_samples == 0
    # charge through the skin does not go away with a reset: the account runs on
    assert charged_uc > 0.0
    assert g.net_charge_uc == charged_uc


@pytest.mark.parametrize("code", list(FaultCode))
def test_every_fault_code_carries_its_operator_message(code: FaultCode) -> None:
    fault = Fault.of(code, onset_t_s=1.0)

    assert fault.message == OPERATOR_MESSAGES[code]
    assert fault.to_dict() == {
        "code": str(code),
        "message": OPERATOR_MESSAGES[code],
        "onset_t_s": 1.0,
        "detected_t_s": None,
        "zero_t_s": None,
        "detail": {},
    }


@given(
    samples=st.lists(
        st.floats(-1000, 1000, allow_nan=False, allow_infinity=False), min_size=1, max_size=20
    ),
    rate_hz=st.floats(0.1, 10_000),
)
def test_the_output_never_breaks_the_peak_or_the_charge_limit_at_any_rate(
    samples: list[float], rate_hz: float
) -> None:
    limits = GuardLimits(peak_ua=400.0, max_slew_ua_s=1e12, max_imbalance_uc=50.0)
    g = OutputGuard(limits, rate_hz)
    x = np.array(samples)

    out = g.process(x.copy(), np.abs(x))

    assert np.all(np.abs(out) <= 400.0)
    charge_uc = np.abs(np.cumsum(out)) / rate_hz
    assert np.all(charge_uc <= 50.0 * (1 + 1e-9))


def test_on_the_exact_path_a_sample_within_the_envelope_tolerance_passes() -> None:
    # the rounding overshoot first sends the block down the exact path
    g = guard()
    over = 400.0 * (1 + CLAMP_TOLERANCE / 2)

    g.process(block(over, 100.0 + 1e-4), block(401.0, 100.0))

    assert not g.tripped


def test_new_limits_apply_to_the_next_block() -> None:
    g = guard()
    lower = GuardLimits(peak_ua=100.0, max_slew_ua_s=1e12, max_imbalance_uc=1e12)

    g.set_limits(lower)
    g.process(block(150.0), block(150.0))

    assert g.limits == lower
    assert g.fault is not None and g.fault.code is FaultCode.PEAK_EXCEEDED


@pytest.mark.parametrize(("value", "recorded"), [(500.0, 500.0), (math.inf, "inf")])
def test_a_trip_records_the_offending_sample_as_it_was(value: float, recorded: object) -> None:
    g = guard()

    g.process(block(value), block(1000.0))

    assert g.fault is not None
    assert g.fault.detail["value_ua"] == recorded
