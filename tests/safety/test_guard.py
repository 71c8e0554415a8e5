from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from microamp.safety import FaultCode, GuardLimits, OutputGuard, get_profile
from microamp.stimulus import Envelope, Renderer, Waveform
from support.strategies import waveforms

RATE_HZ = 10_000.0

any_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
blocks = st.integers(1, 400).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float64, n, elements=any_floats),
        hnp.arrays(np.float64, n, elements=any_floats),
    )
)
limits = st.builds(
    GuardLimits,
    peak_ua=st.floats(0.0, 1000.0),
    max_slew_ua_s=st.floats(0.0, 10_000.0),
    max_imbalance_uc=st.floats(0.0, 5000.0),
)


@pytest.mark.requirement("SAF-AMP-01")
@given(limits=limits, inputs=st.lists(blocks, min_size=1, max_size=6))
def test_no_sample_ever_leaves_the_guard_beyond_its_limit(
    limits: GuardLimits, inputs: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    guard = OutputGuard(limits, RATE_HZ)
    for samples, envelope in inputs:
        out = guard.process(samples.copy(), envelope)
        assert np.all(np.isfinite(out))
        assert np.all(np.abs(out) <= limits.peak_ua)


@pytest.mark.requirement("SAF-GUARD-03")
@given(limits=limits, inputs=st.lists(blocks, min_size=1, max_size=6))
def test_once_tripped_every_sample_from_the_offending_one_is_zero(
    limits: GuardLimits, inputs: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    guard = OutputGuard(limits, RATE_HZ)
    start = 0
    for samples, envelope in inputs:
        was_tripped = guard.tripped
        out = guard.process(samples.copy(), envelope)
        if was_tripped:
            assert np.all(out == 0.0)
        elif guard.fault is not None:
            first = guard.fault.detail["sample_index"] - start
            assert 0 <= first < out.size
            assert np.all(out[first:] == 0.0)
        start += samples.size


@given(waveform=waveforms(max_amplitude_ua=400.0), intensity=st.floats(0.0, 1.0))
def test_a_renderer_within_the_limits_never_trips_the_guard(
    waveform: Waveform, intensity: float
) -> None:
    profile = get_profile("home")
    if waveform.polarity in ("positive", "negative") and waveform.shape in (
        "square",
        "ramped-square",
        "pulse",
    ):
        waveform = Waveform.from_dict({**waveform.to_dict(), "polarity": "biphasic"})
    renderer = Renderer(
        waveform, RATE_HZ, intensity=intensity, max_slew_ua_s=profile.max_slew_ua_s.value
    )
    guard = OutputGuard(GuardLimits.from_profile(profile), RATE_HZ)
    for _ in range(20):
        block = renderer.render(500)
        guard.process(block.samples_ua, block.envelope_ua)
    renderer.ramp_down()
    for _ in range(5):
        block = renderer.render(500)
        guard.process(block.samples_ua, block.envelope_ua)
    assert guard.fault is None


def _guard(**overrides: float) -> OutputGuard:
    values = {"peak_ua": 400.0, "max_slew_ua_s": 1e12, "max_imbalance_uc": 1e6, **overrides}
    return OutputGuard(GuardLimits(**values), RATE_HZ)


def test_a_peak_past_the_limit_trips_at_that_sample() -> None:
    guard = _guard()
    samples = np.full(100, 100.0)
    samples[40] = 450.0
    out = guard.process(samples, np.full(100, 500.0))
    assert guard.fault is not None and guard.fault.code == FaultCode.PEAK_EXCEEDED
    assert np.all(out[:40] == 100.0) and np.all(out[40:] == 0.0)
    assert guard.fault.zero_t_s == pytest.approx(40 / RATE_HZ)


@pytest.mark.requirement("SAF-GUARD-03")
def test_rounding_level_overshoot_is_clamped_not_tripped() -> None:
    guard = _guard()
    samples = np.full(10, 400.0 * (1 + 1e-9))
    out = guard.process(samples, samples.copy())
    assert not guard.tripped
    assert np.all(out == 400.0) and guard.clamped_samples == 10


@pytest.mark.requirement("SAF-GUARD-01")
def test_a_nan_sample_trips_non_finite() -> None:
    guard = _guard()
    samples = np.zeros(10)
    samples[3] = math.nan
    guard.process(samples, np.zeros(10))
    assert guard.fault is not None and guard.fault.code == FaultCode.NON_FINITE


@pytest.mark.requirement("SAF-SLEW-01")
def test_a_step_in_the_envelope_trips_slew() -> None:
    guard = _guard(max_slew_ua_s=1000.0)
    envelope = np.concatenate([np.zeros(10), np.full(10, 300.0)])
    guard.process(envelope.copy(), envelope)
    assert guard.fault is not None and guard.fault.code == FaultCode.SLEW_EXCEEDED
    assert guard.fault.detail["sample_index"] == 10


@pytest.mark.requirement("SAF-GUARD-02")
def test_a_sample_above_its_envelope_trips() -> None:
    guard = _guard()
    guard.process(np.full(10, 200.0), np.full(10, 100.0))
    assert guard.fault is not None and guard.fault.code == FaultCode.ENVELOPE_EXCEEDED


def test_monophasic_output_trips_when_net_charge_passes_the_limit() -> None:
    guard = _guard(max_imbalance_uc=10.0)
    wf = Waveform(amplitude_ua=400.0, frequency_hz=10.0, duty=0.5, polarity="positive")
    renderer = Renderer(wf, RATE_HZ, envelope=Envelope(0.0, 0.0), max_slew_ua_s=1e6)
    for _ in range(20):
        block = renderer.render(1000)
        guard.process(block.samples_ua, block.envelope_ua)
    assert guard.fault is not None and guard.fault.code == FaultCode.CHARGE_IMBALANCE
    assert abs(guard.net_charge_uc) <= 10.0


def test_reset_allows_output_again() -> None:
    guard = _guard()
    guard.process(np.array([math.inf]), np.array([0.0]))
    assert guard.tripped
    guard.reset()
    out = guard.process(np.full(5, 1e-3), np.full(5, 1e-3))
    assert not guard.tripped and np.all(out == 1e-3)


def test_charge_is_accounted_on_blocks_that_take_the_exact_path() -> None:
    # every block carries a rounding-level overshoot that is clamped: the exact path each time
    guard = _guard(max_imbalance_uc=0.605)
    block = np.full(40, 100.0)  # 0.01 µC a sample at 10 kHz
    block[0] = 400.0 * (1 + 1e-9)
    envelope = np.full(40, 400.0 * (1 + 1e-9))
    guard.process(block.copy(), envelope)
    assert guard.clamped_samples == 1
    assert guard.net_charge_uc == pytest.approx((400.0 + 39 * 100.0) / RATE_HZ)
    out = guard.process(block.copy(), envelope)
    assert guard.fault is not None and guard.fault.code == FaultCode.CHARGE_IMBALANCE
    # 0.43 µC after the first block; the second block's sample 14 would make 0.61 µC
    index = guard.fault.detail["sample_index"] - 40
    assert index == 14
    assert np.all(out[index:] == 0.0) and np.all(out[1:index] == 100.0)
    assert guard.net_charge_uc == pytest.approx(0.60)


def test_reset_starts_the_envelope_again_from_zero() -> None:
    guard = _guard(max_slew_ua_s=1000.0)  # 0.1 µA per sample at 10 kHz
    ramp = np.minimum(np.arange(1, 3001) * 0.1, 300.0)
    guard.process(ramp.copy(), ramp)
    assert not guard.tripped
    guard.process(np.array([math.inf]), np.array([300.0]))
    assert guard.tripped
    guard.reset()
    # output starts again from zero at the slew limit: no step from the old 300 µA envelope
    out = guard.process(ramp[:100].copy(), ramp[:100])
    assert not guard.tripped and np.array_equal(out, ramp[:100])


@pytest.mark.requirement("SAF-CHARGE-03")
def test_reset_clears_a_trip_but_never_the_charge_delivered() -> None:
    guard = _guard(max_imbalance_uc=1.0)
    guard.process(np.full(8, 100.0), np.full(8, 100.0))
    guard.process(np.array([math.nan]), np.array([100.0]))
    guard.reset()
    assert guard.net_charge_uc == pytest.approx(0.08)
