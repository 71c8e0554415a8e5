"""The one limit check: layers named with their source, frequency and r.m.s. density bounded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.devices import Capabilities, Command
from microamp.devices.enforce import check_command, rms_bound_ua
from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.stimulus import Waveform
from microamp.stimulus.metrics import rms_ua
from microamp.stimulus.renderer import render_steady
from support.strategies import waveforms

CAPS = Capabilities(backend="test", max_current_ua=1000.0, compliance_v=40.0)


@settings(max_examples=150, deadline=None)
@given(waveform=waveforms(), intensity=st.floats(0.0, 1.0))
def test_the_rms_bound_is_never_below_the_rms_of_the_rendered_waveform(
    waveform: Waveform, intensity: float
) -> None:
    # whole periods, finely sampled: an edge's rounding to a sample is the only slack allowed
    rate_hz = 20_000 * waveform.frequency_hz
    samples = render_steady(waveform, 2.0 / waveform.frequency_hz, rate_hz) * intensity
    assert rms_ua(samples) <= rms_bound_ua(waveform, intensity) * 1.02 + 1e-6


@pytest.mark.requirement("SAF-DENS-01")
def test_a_waveform_too_dense_for_small_electrodes_is_refused_naming_the_density_rule() -> None:
    small = Capabilities(
        backend="test", max_current_ua=1000.0, compliance_v=40.0, electrode_area_cm2=0.25
    )
    steady = Waveform(shape="square", amplitude_ua=800.0, duty=1.0, frequency_hz=10.0)
    with pytest.raises(InvalidValue) as info:
        check_command(Command(steady), get_profile("professional"), small)
    assert info.value.field == "amplitude_ua"
    assert "r.m.s. current density 3.2 mA/cm²" in info.value.rule
    assert "IEC 60601-2-10" in info.value.rule
    # the same current on 1 cm² electrodes is 0.8 mA/cm²: allowed
    assert check_command(Command(steady), get_profile("professional"), CAPS) == 1000.0


def test_a_short_pulse_train_passes_where_its_peak_alone_would_be_too_dense() -> None:
    small = Capabilities(
        backend="test", max_current_ua=1000.0, compliance_v=40.0, electrode_area_cm2=0.25
    )
    pulses = Waveform(shape="pulse", amplitude_ua=800.0, frequency_hz=100.0, phase_us=500.0)
    # on 5 % of the time: r.m.s. 179 µA, 0.72 mA/cm²
    assert check_command(Command(pulses), get_profile("professional"), small) == 1000.0


@pytest.mark.requirement("SAF-AMP-03")
def test_the_ceiling_is_the_tightest_layer_and_a_request_at_it_passes() -> None:
    home = get_profile("home")
    command = Command(Waveform(amplitude_ua=150.0), zone="eyes", client_max_ua=150.0)
    assert check_command(command, home, CAPS) == 150.0


def test_a_bad_ceiling_on_a_command_is_refused_by_name() -> None:
    with pytest.raises(InvalidValue) as info:
        Command(Waveform(), client_max_ua=float("nan"))
    assert info.value.field == "client_max_ua"
    with pytest.raises(InvalidValue) as info:
        Command(Waveform(), practitioner_max_ua=-1.0)
    assert info.value.field == "practitioner_max_ua"
