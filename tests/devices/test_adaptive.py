"""Adaptive intensity: never above the chosen level, lowered as impedance rises, restored slowly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.devices import TelemetryFrame
from microamp.safety import AdaptiveIntensity, Layer


def frame(t_s: float, impedance_ohm: float, commanded: float = 300.0) -> TelemetryFrame:
    return TelemetryFrame(
        t_s, commanded, commanded, commanded, 1.0, impedance_ohm, frozenset(), 0.01
    )


impedances = st.one_of(st.floats(1.0, 1e7), st.just(math.inf), st.just(math.nan))


@pytest.mark.requirement("SAF-ADAPT-01")
@given(
    chosen=st.floats(0.0, 1.0),
    amplitude_ua=st.floats(1.0, 1000.0),
    series=st.lists(impedances, min_size=1, max_size=50),
)
def test_adaptive_never_raises_above_the_chosen_level(
    chosen: float, amplitude_ua: float, series: list[float]
) -> None:
    adaptive = AdaptiveIntensity(comfort_v=20.0)
    for i, z in enumerate(series):
        adjustment = adaptive.observe([frame(0.01 * i, z)], chosen, amplitude_ua)
        assert adaptive.intensity(chosen) <= chosen
        if adjustment is not None:
            assert adjustment.to_intensity <= chosen
            assert adjustment.constraint.value <= chosen


@pytest.mark.requirement("SAF-ADAPT-01")
@given(impedance_ohm=st.floats(1e4, 1e7), amplitude_ua=st.floats(50.0, 1000.0))
def test_adaptive_keeps_the_needed_voltage_under_the_comfort_bound(
    impedance_ohm: float, amplitude_ua: float
) -> None:
    adaptive = AdaptiveIntensity(comfort_v=20.0)
    adaptive.observe([frame(0.01, impedance_ohm)], 1.0, amplitude_ua)
    needed_v = adaptive.intensity(1.0) * amplitude_ua * 1e-6 * impedance_ohm
    assert needed_v <= 20.0 * (1 + 1e-9)


@given(rate_ua_s=st.floats(1.0, 500.0))
def test_adaptive_restores_no_faster_than_its_slew(rate_ua_s: float) -> None:
    adaptive = AdaptiveIntensity(comfort_v=20.0, restore_ua_s=rate_ua_s)
    adaptive.observe([frame(0.0, 200_000.0)], 1.0, 400.0)
    low = adaptive.intensity(1.0)
    for i in range(1, 11):
        adaptive.observe([frame(0.01 * i, 20_000.0)], 1.0, 400.0)
    restored_ua = (adaptive.intensity(1.0) - low) * 400.0
    assert restored_ua <= rate_ua_s * 0.1 * (1 + 1e-9)


def test_every_adaptive_change_is_explained_as_a_clamp() -> None:
    adaptive = AdaptiveIntensity(comfort_v=20.0)
    adjustment = adaptive.observe([frame(0.01, 100_000.0)], 1.0, 400.0)
    assert adjustment is not None
    assert adjustment.to_intensity < adjustment.from_intensity
    binding = adjustment.constraint.binding
    assert binding is not None and binding.layer == Layer.ADAPTIVE
    assert "100000 ohm" in adjustment.reason and "20 V comfort bound" in adjustment.reason
