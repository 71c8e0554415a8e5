"""The enforcement point at its edges: a device's own frequency range and the profile's r.m.s.
density bound each admit a command exactly at the bound and refuse one just past it, the
density is that of the current at the command's intensity, and a density refusal names the
commanded current."""

from __future__ import annotations

import math

import pytest

from microamp.devices import Capabilities, Command
from microamp.devices.enforce import TOLERANCE, check_command, rms_bound_ua
from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.limits import Limit
from microamp.stimulus import Waveform
from microamp.stimulus.metrics import rms_density_ma_cm2, rms_ua
from microamp.stimulus.renderer import render_steady

PROFESSIONAL = get_profile("professional")  # 0.1-1500 Hz, 1000 µA, 2 mA/cm²
NARROW = Capabilities(
    backend="test",
    max_current_ua=1000.0,
    compliance_v=40.0,
    min_frequency_hz=1.0,
    max_frequency_hz=100.0,
)
SMALL = Capabilities(
    backend="test", max_current_ua=1000.0, compliance_v=40.0, electrode_area_cm2=0.25
)


def steady(amplitude_ua: float, frequency_hz: float = 10.0) -> Waveform:
    return Waveform(shape="square", amplitude_ua=amplitude_ua, frequency_hz=frequency_hz, duty=1.0)


@pytest.mark.parametrize("frequency_hz", [1.0, 100.0])
def test_a_frequency_at_either_end_of_the_device_range_is_accepted(frequency_hz: float) -> None:
    assert check_command(Command(steady(100.0, frequency_hz)), PROFESSIONAL, NARROW) == 1000.0


@pytest.mark.parametrize("frequency_hz", [0.999, 100.001])
def test_a_frequency_just_past_the_device_range_is_refused_naming_the_range(
    frequency_hz: float,
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_command(Command(steady(100.0, frequency_hz)), PROFESSIONAL, NARROW)

    assert refused.value.field == "frequency_hz"
    assert refused.value.value == frequency_hz
    assert refused.value.rule == "this device covers 1-100 Hz"


def test_a_density_exactly_at_the_profile_bound_is_accepted() -> None:
    # 500 µA steady on 0.25 cm² is 2 mA/cm² to the last bit
    assert rms_density_ma_cm2(500.0, 0.25) == PROFESSIONAL.max_rms_density_ma_cm2.value

    assert check_command(Command(steady(500.0)), PROFESSIONAL, SMALL) == 1000.0
    # and one past it by exactly the rounding allowed
    past_ua = 500.0 * (1 + TOLERANCE)
    assert rms_density_ma_cm2(past_ua, 0.25) == 2.0 * (1 + TOLERANCE)
    assert check_command(Command(steady(past_ua)), PROFESSIONAL, SMALL) == 1000.0


def test_a_density_just_past_the_profile_bound_is_refused_naming_the_commanded_current() -> None:
    with pytest.raises(InvalidValue) as refused:
        check_command(Command(steady(500.01)), PROFESSIONAL, SMALL)

    assert refused.value.field == "amplitude_ua"
    assert refused.value.value == 500.01
    assert refused.value.rule.startswith("r.m.s. current density 2 mA/cm² on 0.25 cm² electrodes")


def test_the_density_is_that_of_the_current_at_the_commands_intensity() -> None:
    # 800 µA on 0.25 cm² would be 3.2 mA/cm²; at half intensity it is 1.6: allowed
    assert check_command(Command(steady(800.0), intensity=0.5), PROFESSIONAL, SMALL) == 1000.0

    with pytest.raises(InvalidValue) as refused:
        check_command(Command(steady(800.0), intensity=0.75), PROFESSIONAL, SMALL)
    assert refused.value.value == 600.0
    assert "r.m.s. current density 2.4 mA/cm²" in refused.value.rule


# a profile covering 1-100 Hz, each end with its own source, on a device covering 0.1-2000 Hz
BAND = PROFESSIONAL.model_copy(
    update={
        "name": "band",
        "min_frequency_hz": Limit(value=1.0, source="the low end's source"),
        "max_frequency_hz": Limit(value=100.0, source="the high end's source"),
    }
)
WIDE = Capabilities(backend="test", max_current_ua=1000.0, compliance_v=40.0)


@pytest.mark.parametrize(
    "frequency_hz",
    # each end, each end passed by no more than rounding (a float32 on a wire), and each end
    # passed by exactly the rounding allowed
    [
        1.0,
        100.0,
        1.0 * (1 - 5e-10),
        100.0 * (1 + 5e-10),
        1.0 * (1 - TOLERANCE),
        100.0 * (1 + TOLERANCE),
    ],
)
def test_a_frequency_at_either_end_of_the_profile_range_is_accepted(frequency_hz: float) -> None:
    assert check_command(Command(steady(100.0, frequency_hz)), BAND, WIDE) == 1000.0


@pytest.mark.parametrize(
    ("frequency_hz", "source"),
    [(1.0 * (1 - 2e-9), "the low end's source"), (100.0 * (1 + 2e-9), "the high end's source")],
)
def test_a_frequency_past_the_profile_range_is_refused_naming_that_ends_source(
    frequency_hz: float, source: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_command(Command(steady(100.0, frequency_hz)), BAND, WIDE)

    assert refused.value.field == "frequency_hz"
    assert refused.value.value == frequency_hz
    assert refused.value.rule == f"the band profile covers 1-100 Hz [source: {source}]"


def test_a_request_passing_the_tightest_layer_by_exactly_the_rounding_allowed_is_accepted() -> None:
    home = get_profile("home")  # 400 µA
    assert check_command(Command(steady(400.0 * (1 + TOLERANCE))), home, WIDE) == 400.0


def test_the_hardware_is_a_layer_of_its_own_and_refuses_above_its_maximum() -> None:
    small_stage = Capabilities(backend="test", max_current_ua=300.0, compliance_v=40.0)

    assert check_command(Command(steady(300.0)), PROFESSIONAL, small_stage) == 300.0
    with pytest.raises(InvalidValue) as refused:
        check_command(Command(steady(350.0)), PROFESSIONAL, small_stage)
    assert refused.value.field == "amplitude_ua"
    assert refused.value.value == 350.0
    assert refused.value.rule.startswith("above the hardware limit of 300 µA")


@pytest.mark.parametrize("step_ua", [20.0, 0.02 * 1000.0 * (1 + TOLERANCE)])
def test_an_output_step_of_two_percent_of_the_highest_setting_is_accepted(step_ua: float) -> None:
    stepped = Capabilities(
        backend="test", max_current_ua=1000.0, compliance_v=40.0, current_step_ua=step_ua
    )
    assert check_command(Command(steady(100.0)), PROFESSIONAL, stepped) == 1000.0


def test_an_output_step_past_two_percent_is_refused_by_field_value_and_rule() -> None:
    stepped = Capabilities(
        backend="test", max_current_ua=1000.0, compliance_v=40.0, current_step_ua=20.5
    )
    with pytest.raises(InvalidValue) as refused:
        check_command(Command(steady(100.0)), PROFESSIONAL, stepped)

    assert refused.value.as_dict() == {
        "field": "current_step_ua",
        "value": "20.5",
        "rule": "the lowest setting, one step of the output stage, is above 2 % of the highest "
        "(1000 µA under the professional profile) [source: IEC 60601-2-10]",
    }


@pytest.mark.parametrize(
    ("shape", "expected_ua"),
    [("sine", 300.0 / math.sqrt(2.0)), ("triangle", 300.0 / math.sqrt(3.0))],
)
def test_the_rms_bound_of_a_sine_and_a_triangle_is_their_exact_rms(
    shape: str, expected_ua: float
) -> None:
    # a bound above the true r.m.s. would refuse currents the density rule allows
    waveform = Waveform(shape=shape, amplitude_ua=300.0, frequency_hz=10.0)  # type: ignore[arg-type]
    rendered_ua = rms_ua(render_steady(waveform, 1.0, 200_000.0))

    assert rms_bound_ua(waveform) == pytest.approx(expected_ua)
    assert rms_bound_ua(waveform, 0.5) == pytest.approx(expected_ua / 2)
    assert rendered_ua == pytest.approx(expected_ua, rel=1e-3)


def test_the_rms_bound_of_a_pulse_shape_is_its_peak_over_its_on_fraction() -> None:
    square = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=0.25)

    assert rms_bound_ua(square) == pytest.approx(300.0 * math.sqrt(square.on_fraction))
    assert rms_bound_ua(square, 1.0) == rms_bound_ua(square)
