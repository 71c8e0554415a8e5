"""IEC 60601-2-10's lowest setting: at most 2 % of the highest, held where every command passes.

`check_command` refuses every command on a device whose output stage steps more coarsely than
2 % of its highest setting (the profile's maximum, or the hardware's if lower), whatever the
backend; below that step every non-zero amplitude is accepted. The sim's ``step_ua`` models such
a stage (each sample rounded toward zero to a whole step), the sound card declares its 16-bit
step, and the level controls move in 1 % steps.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.clock import SimulatedClock
from microamp.devices import Capabilities, Command, open_device
from microamp.devices.audio import PCM16_FULL_SCALE, AudioDevice
from microamp.devices.enforce import (
    LOWEST_SETTING_MAX_FRACTION,
    check_command,
    highest_setting_ua,
)
from microamp.devices.sim import SimDevice, SimSettings
from microamp.devices.urls import parse_device_url
from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.session.characterize import characterize
from microamp.session.level import LEVEL_STEP, checked_level
from microamp.stimulus import Waveform
from support.fakes import FakeStream

PROFILES = ("home", "professional")
BACKENDS = ("sim", "serial", "audio")
TEMPLATES = Path(__file__).parents[2] / "src" / "microamp" / "web" / "templates"


def _square(amplitude_ua: float) -> Waveform:
    return Waveform("square", amplitude_ua, 10.0, 0.5, "alternating", reversal_s=0.1)


@pytest.mark.requirement("SAF-CHAR-01")
@given(
    backend=st.sampled_from(BACKENDS),
    profile_name=st.sampled_from(PROFILES),
    max_current_ua=st.floats(10.0, 1000.0),
    step_share=st.floats(0.0, 0.1),
    amplitude_share=st.floats(1e-6, 1.0),
)
def test_a_device_steps_no_coarser_than_two_percent_of_its_highest_or_refuses_every_command(
    backend: str,
    profile_name: str,
    max_current_ua: float,
    step_share: float,
    amplitude_share: float,
) -> None:
    profile = get_profile(profile_name)
    plain = Capabilities(backend=backend, max_current_ua=max_current_ua, compliance_v=40.0)
    highest_ua = highest_setting_ua(profile, plain)
    caps = Capabilities(
        backend=backend,
        max_current_ua=max_current_ua,
        compliance_v=40.0,
        current_step_ua=step_share * highest_ua,
    )
    # slow enough for any density bound: only the amplitude and the step are in question
    command = Command(_square(amplitude_share * highest_ua))
    if step_share > LOWEST_SETTING_MAX_FRACTION * (1 + 1e-6):
        with pytest.raises(InvalidValue) as refused:
            check_command(command, profile, caps)
        assert refused.value.field == "current_step_ua"
        assert "2 %" in refused.value.rule and "IEC 60601-2-10" in refused.value.rule
    elif step_share <= LOWEST_SETTING_MAX_FRACTION * (1 - 1e-6):
        try:
            check_command(command, profile, caps)
        except InvalidValue as refused:
            assert refused.field != "current_step_ua"  # another rule (density) may refuse it


@pytest.mark.requirement("SAF-CHAR-01")
def test_a_coarse_sim_stage_is_refused_and_a_fine_one_delivers_whole_steps_never_more() -> None:
    home = get_profile("home")  # highest 400 µA: 2 % is 8 µA
    clock = SimulatedClock()
    with open_device("sim://?step_ua=10&ramp_s=0", clock=clock, profile=home) as coarse:
        with pytest.raises(InvalidValue) as refused:
            coarse.apply(Command(_square(100.0)))
        assert refused.value.field == "current_step_ua"
        assert coarse.command is None
    delivered: list[np.ndarray] = []
    settings = SimSettings.from_url(parse_device_url("sim://?step_ua=5&ramp_s=0&load=r500"), home)
    tap = lambda start, samples: delivered.append(samples)  # noqa: E731
    with SimDevice(clock, home, settings, tap=tap) as fine:
        fine.apply(Command(_square(47.0), expires_after_s=1.0))
        clock.advance(0.5)
        fine.poll()
    samples = np.concatenate(delivered)
    assert np.max(np.abs(samples)) == pytest.approx(45.0)
    assert np.allclose(np.round(samples / 5.0) * 5.0, samples)


def test_characterisation_measures_one_stage_step_as_the_lowest_setting() -> None:
    report = characterize(
        "sim://?step_ua=5", get_profile("home"), electrode_area_cm2=1.0, loads=("r500",)
    )
    assert report.lowest.lowest_ua == pytest.approx(5.0, rel=0.01)
    assert report.lowest.share_pct == pytest.approx(1.25, rel=0.01)
    assert report.lowest.passed


@pytest.mark.requirement("SAF-CHAR-01")
def test_the_sound_card_declares_its_16_bit_step_and_accepts_a_setting_of_two_percent() -> None:
    clock = SimulatedClock()
    with AudioDevice(clock, get_profile("home"), lambda **s: FakeStream(**s)) as device:
        step_ua = device.capabilities.current_step_ua
        assert step_ua == pytest.approx(1000.0 / PCM16_FULL_SCALE)
        lowest = Waveform("square", 8.0, 100.0, 0.5, "biphasic")
        device.apply(Command(lowest))
        assert device.command is not None


@pytest.mark.requirement("SAF-CHAR-01")
def test_every_level_control_reaches_down_to_at_most_two_percent() -> None:
    assert LEVEL_STEP <= LOWEST_SETTING_MAX_FRACTION
    assert checked_level(LEVEL_STEP) == LEVEL_STEP and checked_level(1e-6) == 1e-6
    ranges = {
        "console_form.html": ("intensity", 100.0),  # whole percent
        "live.html": ("intensity", 1.0),  # a fraction
    }
    for template, (control, full) in ranges.items():
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        tag = re.search(rf'<input id="{control}"[^>]*type="range"[^>]*>', text)
        tag = tag or re.search(rf'<input type="range" id="{control}"[^>]*>', text)
        assert tag, template
        low = float(re.search(r'min="([^"]+)"', tag.group(0)).group(1))  # type: ignore[union-attr]
        step = float(re.search(r'step="([^"]+)"', tag.group(0)).group(1))  # type: ignore[union-attr]
        lowest_nonzero = low if low > 0 else step
        assert lowest_nonzero / full <= LOWEST_SETTING_MAX_FRACTION, template
