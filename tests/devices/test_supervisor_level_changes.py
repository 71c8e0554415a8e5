"""The chosen level under a supervisor: changed only on a command in force, refused by name when
there is none, sent to the device as the new level; and an update read back as a dict."""

from __future__ import annotations

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, SupervisorUpdate, open_device
from microamp.errors import InvalidValue
from microamp.safety import AdaptiveIntensity, get_profile
from microamp.stimulus import Waveform

PROFILE = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=200.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def test_changing_the_level_with_no_command_in_force_is_refused_by_field_value_and_rule() -> None:
    clock = SimulatedClock()
    with open_device("sim://", clock=clock, profile=PROFILE) as device:
        supervisor = Supervisor(device, PROFILE)

        with pytest.raises(InvalidValue) as refused:
            supervisor.set_intensity(0.4)

        assert refused.value.as_dict() == {
            "field": "intensity",
            "value": "0.4",
            "rule": "there is no command in force to change",
        }
        assert device.command is None and supervisor.running is False


def test_a_new_level_reaches_the_device_and_keeps_the_rest_of_the_command() -> None:
    clock = SimulatedClock()
    with open_device("sim://", clock=clock, profile=PROFILE) as device:
        supervisor = Supervisor(device, PROFILE, adapt=False)
        supervisor.apply(Command(STEADY, intensity=0.8, zone="cheeks", expires_after_s=0.5))
        clock.advance(0.1)

        supervisor.set_intensity(0.25)

        expected = Command(STEADY, intensity=0.25, zone="cheeks", expires_after_s=0.5)
        assert device.command == expected
        assert supervisor.chosen == expected
        assert supervisor.output_intensity == 0.25
        assert device.expires_at_s == pytest.approx(0.6)
        supervisor.stop()
        assert supervisor.running is False
        assert supervisor.output_intensity == 0.0
        assert device.command is None


def test_a_new_level_is_held_to_what_adaptive_intensity_allows_unless_adapting_is_off() -> None:
    clock = SimulatedClock()
    with open_device("sim://?load=wet", clock=clock, profile=PROFILE) as device:
        adaptive = AdaptiveIntensity(comfort_v=2.0)
        supervisor = Supervisor(device, PROFILE, adaptive=adaptive)
        supervisor.apply(Command(STEADY, intensity=0.5))
        adjusted = []
        for _ in range(50):
            clock.sleep(0.01)
            update = supervisor.service()
            if update.adjustments:
                adjusted.append(update)
        assert adjusted[0].to_dict()["adjustments"] == [
            a.to_dict() for a in adjusted[0].adjustments
        ]
        allowed = adaptive.intensity(1.0)
        assert 0.0 < allowed < 0.5

        supervisor.set_intensity(1.0)

        assert supervisor.chosen is not None and supervisor.chosen.intensity == 1.0
        assert device.command is not None and device.command.intensity == allowed
        assert supervisor.output_intensity == allowed
        assert supervisor.profile is PROFILE
        supervisor.stop()

        # the same adaptive state, not consulted: the device gets the level as chosen
        unadapted = Supervisor(device, PROFILE, adaptive=adaptive, adapt=False)
        unadapted.apply(Command(STEADY, intensity=0.75))
        assert device.command is not None and device.command.intensity == 0.75
        assert unadapted.output_intensity == 0.75
        unadapted.stop()


def test_an_update_reads_back_as_a_dict_of_what_it_saw_and_did() -> None:
    clock = SimulatedClock()
    with open_device("sim://?load=gel", clock=clock, profile=PROFILE) as device:
        supervisor = Supervisor(device, PROFILE)
        supervisor.apply(Command(STEADY))
        clock.advance(0.1)
        update = supervisor.service()
        supervisor.stop()

    assert update.frames
    assert update.to_dict() == {
        "frames": [f.to_dict() for f in update.frames],
        "faults": [],
        "adjustments": [],
        "running": True,
    }
    assert SupervisorUpdate().to_dict() == {
        "frames": [],
        "faults": [],
        "adjustments": [],
        "running": False,
    }
