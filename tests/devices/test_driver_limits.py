"""Every backend refuses the same commands for the same reasons: one limit check before any driver.

Each rule runs on `sim`, on the serial host against the firmware emulator, and on the sound card
(through the fake stream), under the profile the case names. A refusal names the field, the
value and the layer that refused it, and leaves the command in force unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from microamp.clock import RealClock, SimulatedClock
from microamp.devices import Command, Device, open_device
from microamp.devices.audio import AudioDevice
from microamp.devices.emulator import FirmwareEmulator
from microamp.errors import InvalidValue
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream

# biphasic and fast enough for an AC-coupled sound card, so every backend can carry it
BIPHASIC = Waveform(
    shape="square", amplitude_ua=100.0, frequency_hz=100.0, duty=0.5, polarity="biphasic"
)
PHYSICS = "sim://?load=gel&ramp_s=0&seed=2"


@dataclass
class LimitRig:
    device: Device
    wait: Callable[[float], None]

    def run(self, seconds: float, *, renew: bool = True) -> None:
        for _ in range(round(seconds / 0.01)):
            self.wait(0.01)
            if renew and self.device.command is not None:
                self.device.heartbeat()
            self.device.poll()


def _sim(profile: str) -> Iterator[LimitRig]:
    clock = SimulatedClock()
    with open_device(PHYSICS, clock=clock, profile=get_profile(profile)) as device:
        yield LimitRig(device, clock.advance)


def _emulator(profile: str) -> Iterator[LimitRig]:
    with FirmwareEmulator(PHYSICS).start() as emulator:
        url = f"serial://{emulator.path}"
        with open_device(url, clock=RealClock(), profile=get_profile(profile)) as device:
            yield LimitRig(device, time.sleep)


def _audio(profile: str) -> Iterator[LimitRig]:
    clock = SimulatedClock()
    streams: list[FakeStream] = []

    def factory(**settings: Any) -> FakeStream:
        streams.append(FakeStream(**settings))
        return streams[-1]

    with AudioDevice(clock, get_profile(profile), factory) as device:

        def wait(seconds: float) -> None:
            clock.advance(seconds)
            streams[0].pull(max(1, round(seconds * 48_000 / 480)))

        yield LimitRig(device, wait)


RIGS = {"sim": _sim, "emulator": _emulator, "audio": _audio}


@pytest.fixture(params=sorted(RIGS))
def make_rig(request: pytest.FixtureRequest) -> Iterator[Callable[[str], LimitRig]]:
    generators: list[Iterator[LimitRig]] = []

    def make(profile: str) -> LimitRig:
        generator = RIGS[request.param](profile)
        generators.append(generator)
        return next(generator)

    yield make
    for generator in generators:
        for _ in generator:
            pass


def _refused(rig: LimitRig, command: Command) -> InvalidValue:
    before = rig.device.command
    with pytest.raises(InvalidValue) as info:
        rig.device.apply(command)
    assert rig.device.command == before
    return info.value


def test_a_command_above_the_zone_cap_is_refused_naming_the_zone_layer(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("home")
    rig.device.apply(Command(BIPHASIC, zone="eyes"))
    error = _refused(rig, Command(BIPHASIC.with_amplitude(250.0), zone="eyes"))
    assert (error.field, error.value) == ("amplitude_ua", 250.0)
    assert "zone limit of 200 µA" in error.rule and "eyes" in error.rule
    assert "NuFACE Trinity" in error.rule  # the cap's source
    command = rig.device.command
    assert command is not None and command.commanded_ua == 100.0


def test_a_command_above_the_profile_maximum_is_refused_naming_the_profile_layer(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("home")
    error = _refused(rig, Command(BIPHASIC.with_amplitude(500.0), zone="cheeks"))
    assert (error.field, error.value) == ("amplitude_ua", 500.0)
    assert "profile limit of 400 µA" in error.rule and "home" in error.rule
    assert rig.device.command is None


def test_the_intensity_counts_against_the_limit_not_the_waveform_amplitude(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("home")
    error = _refused(rig, Command(BIPHASIC.with_amplitude(600.0), intensity=0.5, zone="eyes"))
    assert error.value == 300.0 and "zone limit of 200 µA" in error.rule
    rig.device.apply(Command(BIPHASIC.with_amplitude(600.0), intensity=0.3, zone="eyes"))
    command = rig.device.command
    assert command is not None and command.commanded_ua == pytest.approx(180.0)


def test_a_client_ceiling_carried_on_the_command_refuses_above_it(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("professional")
    error = _refused(rig, Command(BIPHASIC.with_amplitude(300.0), client_max_ua=250.0))
    assert "client limit of 250 µA" in error.rule
    rig.device.apply(Command(BIPHASIC.with_amplitude(200.0), client_max_ua=250.0))
    assert rig.device.command is not None


def test_a_practitioner_ceiling_below_the_client_one_is_the_one_named(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("professional")
    command = Command(
        BIPHASIC.with_amplitude(300.0), client_max_ua=250.0, practitioner_max_ua=120.0
    )
    error = _refused(rig, command)
    assert "practitioner limit of 120 µA" in error.rule


def test_a_frequency_outside_the_profile_range_is_refused_naming_the_profile(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("home")
    error = _refused(rig, Command(Waveform(shape="sine", amplitude_ua=100.0, frequency_hz=1200.0)))
    assert (error.field, error.value) == ("frequency_hz", 1200.0)
    assert "home profile" in error.rule and "1000 Hz" in error.rule


def test_a_command_at_the_limit_is_accepted_and_delivered(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("home")
    rig.device.apply(Command(BIPHASIC.with_amplitude(200.0), zone="eyes"))
    rig.run(0.1)
    command = rig.device.command
    assert command is not None and command.commanded_ua == 200.0


def test_a_silent_host_lets_the_command_expire_on_every_backend(
    make_rig: Callable[[str], LimitRig],
) -> None:
    rig = make_rig("home")
    rig.device.apply(Command(BIPHASIC, expires_after_s=0.3))
    rig.run(0.8, renew=False)
    codes = {f.code for f in rig.device.drain_faults()}
    assert codes & {FaultCode.COMMAND_EXPIRED, FaultCode.WATCHDOG}
    assert rig.device.command is None


def test_audio_output_never_exceeds_the_zone_cap_it_was_given() -> None:
    clock = SimulatedClock()
    streams: list[FakeStream] = []

    def factory(**settings: Any) -> FakeStream:
        streams.append(FakeStream(**settings))
        return streams[-1]

    with AudioDevice(clock, get_profile("home"), factory) as device:
        device.apply(Command(BIPHASIC.with_amplitude(200.0), zone="eyes"))
        out = streams[0].pull(50)
    assert float(np.max(np.abs(out))) * 1000.0 <= 200.0 + 1e-3
