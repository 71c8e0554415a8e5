from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.stimulus import Waveform, measure, render_steady
from microamp.stimulus.metrics import phase_charges_uc, rms_density_ma_cm2

SAMPLES_PER_PERIOD = 1000
# a sample at a period boundary may fall either side of it
SAMPLING_TOLERANCE = 2.0 / SAMPLES_PER_PERIOD

frequencies = st.sampled_from([1.0, 2.0, 5.0, 10.0, 40.0, 100.0])
amplitudes = st.floats(1.0, 1000.0)


def _steady(waveform: Waveform, periods: int) -> tuple[np.ndarray, float]:
    rate_hz = waveform.frequency_hz * SAMPLES_PER_PERIOD
    return render_steady(waveform, periods / waveform.frequency_hz, rate_hz), rate_hz


@given(amplitude_ua=amplitudes, frequency_hz=frequencies, duty_permille=st.integers(20, 1000))
def test_square_mean_is_duty_times_amplitude_and_rms_is_amplitude_root_duty(
    amplitude_ua: float, frequency_hz: float, duty_permille: int
) -> None:
    duty = duty_permille / 1000
    wf = Waveform(
        amplitude_ua=amplitude_ua, frequency_hz=frequency_hz, duty=duty, polarity="positive"
    )
    samples, rate_hz = _steady(wf, periods=4)
    m = measure(samples, rate_hz, electrode_area_cm2=1.0)
    assert m.mean_ua == pytest.approx(duty * amplitude_ua, abs=amplitude_ua * SAMPLING_TOLERANCE)
    assert m.rms_ua == pytest.approx(
        amplitude_ua * math.sqrt(duty), rel=SAMPLING_TOLERANCE / duty + 1e-9
    )
    assert m.peak_ua == pytest.approx(amplitude_ua)


@given(amplitude_ua=amplitudes, frequency_hz=frequencies)
def test_sine_rms_is_amplitude_over_root_two_and_mean_is_zero(
    amplitude_ua: float, frequency_hz: float
) -> None:
    wf = Waveform(
        shape="sine", amplitude_ua=amplitude_ua, frequency_hz=frequency_hz, polarity="positive"
    )
    samples, rate_hz = _steady(wf, periods=3)
    m = measure(samples, rate_hz, electrode_area_cm2=1.0)
    assert m.rms_ua == pytest.approx(amplitude_ua / math.sqrt(2), rel=1e-6)
    assert m.mean_ua == pytest.approx(0.0, abs=amplitude_ua * 1e-9)


@given(amplitude_ua=amplitudes, frequency_hz=frequencies)
def test_triangle_rms_is_amplitude_over_root_three(
    amplitude_ua: float, frequency_hz: float
) -> None:
    wf = Waveform(shape="triangle", amplitude_ua=amplitude_ua, frequency_hz=frequency_hz)
    samples, rate_hz = _steady(wf, periods=2)
    m = measure(samples, rate_hz, electrode_area_cm2=1.0)
    assert m.rms_ua == pytest.approx(amplitude_ua / math.sqrt(3), rel=1e-4)


@given(
    amplitude_ua=amplitudes,
    shape=st.sampled_from(["square", "ramped-square", "pulse", "sine", "triangle"]),
    reversal_periods=st.integers(1, 6),
    cycles=st.integers(1, 3),
    frequency_hz=frequencies,
)
def test_alternating_polarity_nets_zero_charge_over_whole_reversal_cycles(
    amplitude_ua: float, shape: str, reversal_periods: int, cycles: int, frequency_hz: float
) -> None:
    wf = Waveform(
        shape=shape,  # type: ignore[arg-type]
        amplitude_ua=amplitude_ua,
        frequency_hz=frequency_hz,
        polarity="alternating",
        reversal_s=reversal_periods / frequency_hz,
        rise_s=0.1 / frequency_hz,
        phase_us=0.2e6 / frequency_hz,
    )
    samples, rate_hz = _steady(wf, periods=2 * reversal_periods * cycles)
    m = measure(samples, rate_hz, electrode_area_cm2=1.0)
    assert m.net_charge_uc == pytest.approx(0.0, abs=m.abs_charge_uc * 1e-9 + 1e-9)


@given(amplitude_ua=amplitudes, frequency_hz=frequencies)
def test_biphasic_pulses_are_charge_balanced_every_period(
    amplitude_ua: float, frequency_hz: float
) -> None:
    wf = Waveform(
        amplitude_ua=amplitude_ua, frequency_hz=frequency_hz, duty=0.4, polarity="biphasic"
    )
    samples, rate_hz = _steady(wf, periods=5)
    m = measure(samples, rate_hz, electrode_area_cm2=1.0)
    one_phase_uc = amplitude_ua * 0.2 / frequency_hz
    assert abs(m.net_charge_uc) <= amplitude_ua / rate_hz * 2
    assert m.max_imbalance_uc == pytest.approx(one_phase_uc, rel=SAMPLING_TOLERANCE * 10)


def test_monophasic_square_accumulates_imbalance_linearly() -> None:
    wf = Waveform(amplitude_ua=100.0, frequency_hz=10.0, duty=0.5, polarity="positive")
    samples = render_steady(wf, 2.0, 10_000.0)
    m = measure(samples, 10_000.0, electrode_area_cm2=1.0)
    assert m.max_imbalance_uc == pytest.approx(100.0, rel=1e-3)
    assert m.max_window_mean_ua == pytest.approx(50.0, rel=1e-3)


def test_phase_charges_split_at_sign_changes_and_zero_gaps() -> None:
    samples = np.array([1.0, 1.0, 0.0, 1.0, -2.0, -2.0, 0.0, 0.0, 3.0])
    np.testing.assert_allclose(phase_charges_uc(samples, 1.0), [2.0, 1.0, -4.0, 3.0])


def test_density_is_rms_in_ma_over_area() -> None:
    assert rms_density_ma_cm2(500.0, 0.25) == pytest.approx(2.0)
    with pytest.raises(InvalidValue):
        rms_density_ma_cm2(500.0, 0.0)
