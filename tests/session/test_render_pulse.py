"""The pulse view: a step's waveform on the simulator after its ramp, into a named load, with
figures that match those worked out by hand for a square wave into a plain resistor."""

from __future__ import annotations

import pytest

from microamp.errors import InvalidValue
from microamp.protocols import load_protocol, plan_protocol
from microamp.safety.limits import HOME, PROFESSIONAL
from microamp.session.render import render_pulse, render_step_pulse
from microamp.stimulus.waveform import Waveform

SQUARE = Waveform("square", 100.0, 10.0, 0.5, "positive")


def test_a_square_into_r500_has_the_figures_worked_out_by_hand() -> None:
    view = render_pulse(SQUARE, profile=PROFESSIONAL, load="r500", window="period")
    # 100 µA for half of each 100 ms period: rms 100/sqrt(2), mean 50, 5 µC a pulse
    assert view.window_s == pytest.approx(0.1)
    assert view.peak_ua == pytest.approx(100.0, abs=0.5)
    assert view.rms_ua == pytest.approx(100.0 / 2**0.5, rel=0.01)
    assert view.dc_ua == pytest.approx(50.0, rel=0.01)
    assert view.net_charge_per_pulse_uc(SQUARE.period_s) == pytest.approx(5.0, rel=0.01)
    assert view.max_phase_charge_uc == pytest.approx(5.0, rel=0.01)
    # 100 µA through 500 Ω is 50 mV
    assert view.peak_voltage_v == pytest.approx(0.05, rel=0.02)
    assert view.headroom_v == pytest.approx(view.compliance_v - 0.05, abs=0.01)
    assert not view.faults


def test_a_dry_electrode_takes_more_voltage_than_gel() -> None:
    gel = render_pulse(SQUARE, profile=PROFESSIONAL, load="gel", window="10ms")
    dry = render_pulse(SQUARE, profile=PROFESSIONAL, load="dry", window="10ms")
    assert dry.peak_voltage_v > gel.peak_voltage_v
    assert dry.headroom_v < gel.headroom_v
    assert gel.delivered_ua.size == round(0.01 * gel.rate_hz)


def test_a_step_above_the_home_profile_is_drawn_at_its_cap_with_the_reason() -> None:
    step = plan_protocol(load_protocol("pro-lift"))[2]
    drawn = render_step_pulse(step, profile=HOME, load="r500")
    assert drawn.asked_ua == step.requested_ua > HOME.max_amplitude_ua.value
    assert drawn.amplitude_ua == HOME.max_amplitude_ua.value
    assert f"capped at {HOME.max_amplitude_ua.value:g} µA" in drawn.limits
    assert "home profile" in drawn.limits
    assert float(drawn.view.commanded_ua.max()) <= drawn.amplitude_ua + 1e-6


@pytest.mark.parametrize(
    ("field", "load", "window"), [("window", "gel", "2s"), ("device_load", "damp", "period")]
)
def test_an_unknown_window_or_load_is_refused_by_name(field: str, load: str, window: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        render_pulse(SQUARE, profile=HOME, load=load, window=window)
    assert refused.value.field == field
