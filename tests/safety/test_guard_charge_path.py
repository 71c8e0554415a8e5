"""`OutputGuard`: its limits' validation, the charge account it keeps or shares, the charge trip
at its exact sample, and the fast path agreeing with a per-sample reference of every rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.charge import ChargeAccount
from microamp.safety.faults import FaultCode
from microamp.safety.guard import CLAMP_TOLERANCE, GuardLimits, OutputGuard
from microamp.safety.limits import profile_from_dict

RATE_HZ = 1000.0
HOME = get_profile("home")


def _limits(imbalance_uc: float = 1e9, dc_ua: float = math.inf) -> GuardLimits:
    return GuardLimits(
        peak_ua=100.0,
        max_slew_ua_s=1000.0,  # 1 µA a sample
        max_imbalance_uc=imbalance_uc,
        max_mean_dc_ua=dc_ua,
        dc_window_s=1.0,
    )


# --- GuardLimits ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["peak_ua", "max_slew_ua_s", "max_imbalance_uc"])
@pytest.mark.parametrize("value", [-1e-9, math.inf, math.nan])
def test_a_finite_limit_that_is_negative_or_not_finite_is_refused(field: str, value: float) -> None:
    given_limits = {"peak_ua": 1.0, "max_slew_ua_s": 1.0, "max_imbalance_uc": 1.0, field: value}
    with pytest.raises(InvalidValue) as caught:
        GuardLimits(**given_limits)
    assert caught.value.field == field
    assert caught.value.rule == "must be a finite number, at least 0"


def test_limits_of_zero_are_accepted() -> None:
    limits = GuardLimits(peak_ua=0.0, max_slew_ua_s=0.0, max_imbalance_uc=0.0, max_mean_dc_ua=0.0)
    assert limits.dc_window_s == 10.0


@pytest.mark.parametrize("value", [-1e-9, math.nan])
def test_a_negative_mean_dc_limit_is_refused(value: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        GuardLimits(peak_ua=1.0, max_slew_ua_s=1.0, max_imbalance_uc=1.0, max_mean_dc_ua=value)
    assert caught.value.field == "max_mean_dc_ua"
    assert caught.value.rule == "must be at least 0"
    assert caught.value.value is value or caught.value.value == value


def test_an_unbounded_mean_dc_limit_is_the_default() -> None:
    limits = GuardLimits(peak_ua=1.0, max_slew_ua_s=1.0, max_imbalance_uc=1.0)
    assert limits.max_mean_dc_ua == math.inf


@pytest.mark.parametrize("window_s", [0.0, -1.0, math.inf, math.nan])
def test_a_window_that_is_not_positive_and_finite_is_refused(window_s: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        GuardLimits(peak_ua=1.0, max_slew_ua_s=1.0, max_imbalance_uc=1.0, dc_window_s=window_s)
    assert caught.value.field == "dc_window_s"
    assert caught.value.rule == "must be greater than 0 s"
    assert caught.value.value is window_s or caught.value.value == window_s


def test_a_mean_dc_limit_and_a_window_below_one_are_accepted() -> None:
    limits = GuardLimits(
        peak_ua=1.0, max_slew_ua_s=1.0, max_imbalance_uc=1.0, max_mean_dc_ua=0.5, dc_window_s=0.5
    )
    assert (limits.max_mean_dc_ua, limits.dc_window_s) == (0.5, 0.5)


def test_limits_from_a_profile_take_its_window() -> None:
    profile = profile_from_dict({"name": "short window", "limits": {"dc_window_s": 2.0}})
    assert GuardLimits.from_profile(profile).dc_window_s == 2.0


def test_limits_from_a_profile_take_every_limit_and_a_peak_may_only_lower() -> None:
    limits = GuardLimits.from_profile(HOME)
    assert limits.peak_ua == HOME.max_amplitude_ua.value
    assert limits.max_slew_ua_s == HOME.max_slew_ua_s.value
    assert limits.max_imbalance_uc == HOME.max_imbalance_uc.value
    assert limits.max_mean_dc_ua == HOME.max_mean_dc_ua.value
    assert limits.dc_window_s == HOME.dc_window_s.value
    assert GuardLimits.from_profile(HOME, peak_ua=100.0).peak_ua == 100.0
    assert GuardLimits.from_profile(HOME, peak_ua=1e6).peak_ua == HOME.max_amplitude_ua.value


# --- the account ----------------------------------------------------------------------------


def test_a_guard_without_an_account_keeps_one_with_its_limits() -> None:
    guard = OutputGuard(_limits(imbalance_uc=3.0, dc_ua=2.0), RATE_HZ)
    assert guard.account.sample_rate_hz == RATE_HZ
    assert guard.account.max_imbalance_uc == 3.0
    assert guard.account.max_window_uc == 2.0
    assert guard.account.dc_window_s == 1.0
    assert guard.sample_rate_hz == RATE_HZ
    assert guard.clamped_samples == 0
    assert not guard.tripped


def test_a_guard_charges_the_account_it_is_given() -> None:
    account = ChargeAccount(RATE_HZ, max_imbalance_uc=1.0)
    guard = OutputGuard(_limits(), RATE_HZ, account)
    assert guard.account is account
    _ramped_to(guard, 50.0)
    guard.process(np.full(5, 50.0), np.full(5, 50.0))
    assert account.net_uc == pytest.approx(0.25)
    assert guard.net_charge_uc == account.net_uc


def test_an_account_at_another_rate_is_refused_naming_its_rate() -> None:
    account = ChargeAccount(2000.0, max_imbalance_uc=1.0)
    with pytest.raises(InvalidValue) as caught:
        OutputGuard(_limits(), RATE_HZ, account)
    assert caught.value.field == "account"
    assert caught.value.value == 2000.0
    assert "1000 Hz" in caught.value.rule


@pytest.mark.parametrize("rate_hz", [0.0, -1.0, math.inf, math.nan])
def test_a_guard_sample_rate_that_is_not_positive_and_finite_is_refused(rate_hz: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        OutputGuard(_limits(), rate_hz)
    assert caught.value.field == "sample_rate_hz"


def _ramped_to(guard: OutputGuard, envelope_ua: float) -> int:
    """Ramp the envelope up at the slew limit with no current; the samples processed."""
    env = np.arange(1.0, envelope_ua + 1.0)
    guard.process(np.zeros(env.size), env)
    return env.size


@pytest.mark.parametrize(
    ("first_ua", "step_ua"),
    [(50.0, 0.0), (46.0, 1.0)],  # a steady envelope takes the fast path, a ramp the exact one
)
def test_a_charge_trip_is_at_the_first_sample_past_the_limit_on_either_path(
    first_ua: float, step_ua: float
) -> None:
    # the charge after sample 3 is within 0.22 µC, after sample 4 past it
    guard = OutputGuard(_limits(imbalance_uc=0.22), RATE_HZ)
    start = _ramped_to(guard, first_ua - step_ua)
    env = first_ua + step_ua * np.arange(8.0)
    out = guard.process(env.copy(), env)
    assert guard.fault is not None
    assert guard.fault.code == FaultCode.CHARGE_IMBALANCE
    assert guard.fault.detail["sample_index"] == start + 4
    assert guard.fault.detail["value_ua"] == env[4]
    assert guard.fault.onset_t_s == pytest.approx((start + 4) / RATE_HZ)
    assert np.all(out[4:] == 0.0)
    np.testing.assert_array_equal(out[:4], env[:4])
    assert guard.net_charge_uc == pytest.approx(float(env[:4].sum()) / RATE_HZ)


def test_a_charge_trip_stands_when_a_later_sample_breaks_another_rule() -> None:
    guard = OutputGuard(_limits(imbalance_uc=0.22), RATE_HZ)
    start = _ramped_to(guard, 50.0)
    samples = np.full(8, 50.0)
    samples[6] = 101.0  # past the peak, after the charge limit is passed at sample 4
    out = guard.process(samples, np.full(8, 50.0))
    assert guard.fault is not None
    assert guard.fault.code == FaultCode.CHARGE_IMBALANCE
    assert guard.fault.detail["sample_index"] == start + 4
    assert np.all(out[4:] == 0.0)


def test_an_envelope_that_flips_sign_at_a_block_start_trips_for_slew() -> None:
    guard = OutputGuard(_limits(), RATE_HZ)
    start = _ramped_to(guard, 40.0)
    guard.process(np.zeros(3), np.full(3, -40.0))
    assert guard.fault is not None
    assert guard.fault.code == FaultCode.SLEW_EXCEEDED
    assert guard.fault.detail["sample_index"] == start


@pytest.mark.parametrize(("excess_ua", "trips"), [(0.5e-9, False), (2e-9, True)])
def test_a_steep_envelope_step_at_the_slew_tolerance(excess_ua: float, trips: bool) -> None:
    guard = OutputGuard(_limits(), RATE_HZ)
    start = _ramped_to(guard, 40.0)
    # two steps at the limit (the exact path), then one a hair past it
    env = np.array([41.0, 42.0, 43.0 + 1e-6 + excess_ua])
    guard.process(np.zeros(3), env)
    assert guard.tripped is trips
    if trips:
        assert guard.fault is not None
        assert guard.fault.code == FaultCode.SLEW_EXCEEDED
        assert guard.fault.detail["sample_index"] == start + 2


# --- fast and exact paths against a reference -----------------------------------------------


class _Reference:
    """Every rule checked sample by sample, in the guard's order of precedence."""

    def __init__(self, limits: GuardLimits) -> None:
        self.limits = limits
        self.account = ChargeAccount(
            RATE_HZ,
            max_imbalance_uc=limits.max_imbalance_uc,
            max_mean_dc_ua=limits.max_mean_dc_ua,
            dc_window_s=limits.dc_window_s,
        )
        self.last_env = 0.0
        self.index = 0
        self.fault: tuple[FaultCode, int, float] | None = None
        self.clamped = 0

    def _rule(self, x: float, env: float, previous: float) -> FaultCode | None:
        peak = self.limits.peak_ua
        max_step = self.limits.max_slew_ua_s / RATE_HZ
        if not (math.isfinite(x) and math.isfinite(env)):
            return FaultCode.NON_FINITE
        if abs(x) > peak * (1 + CLAMP_TOLERANCE) + 1e-9:
            return FaultCode.PEAK_EXCEEDED
        if abs(x) - abs(env) > CLAMP_TOLERANCE * max(peak, 1.0):
            return FaultCode.ENVELOPE_EXCEEDED
        if abs(env - previous) > max_step * (1 + 1e-6) + 1e-9:
            return FaultCode.SLEW_EXCEEDED
        return None

    def process(self, x: np.ndarray, env: np.ndarray) -> np.ndarray:
        n, start = x.size, self.index
        self.index += n
        if self.fault is not None:
            return np.zeros(n)
        out = x.copy()
        first, found = n, None
        previous = self.last_env
        for i in range(n):
            found = self._rule(float(x[i]), float(env[i]), previous)
            if found is not None:
                first = i
                break
            previous = float(env[i])
        peak = self.limits.peak_ua
        self.clamped += int(np.count_nonzero(np.abs(x) > peak))
        out[:first] = np.clip(out[:first], -peak, peak)
        out[first:] = 0.0
        breach = self.account.admit(out)
        if breach < first:
            self.fault = (FaultCode.CHARGE_IMBALANCE, start + breach, float(out[breach]))
            out[breach:] = 0.0
        elif found is not None:
            self.fault = (found, start + first, float(x[first]))
        elif n:
            self.last_env = float(env[-1])
        return out


def _block(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 12))
    step = st.sampled_from([0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 1.0 + 2e-6, -1.5])
    env = np.clip(40.0 + np.cumsum([draw(step) for _ in range(n)]), -100.0, 100.0)
    scale = st.sampled_from([1.0, 1.0, -1.0, 0.5, 0.0, 1.0 + 1e-7, 1.01])
    x = env * np.array([draw(scale) for _ in range(n)])
    for i in range(n):
        odd = draw(st.sampled_from([None] * 12 + [math.nan, math.inf, 100.00005, 101.0, -100.0]))
        if odd is not None:
            x[i] = odd
    return x, env


@st.composite
def _blocks(draw: st.DrawFn) -> list[tuple[np.ndarray, np.ndarray]]:
    return [_block(draw) for _ in range(draw(st.integers(1, 8)))]


@settings(max_examples=300, deadline=None)
@given(
    blocks=_blocks(),
    imbalance_uc=st.sampled_from([0.05, 0.2, 1.0, 1e9]),
    dc_ua=st.sampled_from([10.0, 100.0, math.inf]),
)
def test_the_guard_agrees_with_a_per_sample_check_of_every_rule(
    blocks: list[tuple[np.ndarray, np.ndarray]], imbalance_uc: float, dc_ua: float
) -> None:
    limits = _limits(imbalance_uc, dc_ua)
    guard = OutputGuard(limits, RATE_HZ)
    reference = _Reference(limits)
    # both start with the envelope ramped up to 40 µA
    ramp = np.arange(1.0, 41.0)
    for x, env in [(np.zeros(ramp.size), ramp), *blocks]:
        expected = reference.process(x, env)
        out = guard.process(x.copy(), env.copy())
        np.testing.assert_array_equal(out, expected)
        assert guard.clamped_samples == reference.clamped
        assert guard.net_charge_uc == reference.account.net_uc
        if reference.fault is None:
            assert guard.fault is None
        else:
            assert guard.fault is not None
            code, index, value = reference.fault
            assert guard.fault.code == code
            assert guard.fault.detail["sample_index"] == index
            got = guard.fault.detail["value_ua"]
            assert got == (value if math.isfinite(value) else str(value))
