"""One driver suite, run on every backend alike (python-can's back-to-back idea).

Each backend fixture yields a `Rig`: the device, and a way to let time pass on its clock. The
rules of output (physics, faults) run on `sim` and on the serial emulator; the limit rules run
on the sound card too (through the fake stream): every backend refuses the same commands for
the same reasons, naming the field, the value and the layer that refused it, and a refusal
leaves the command in force unchanged. The emulator runs on the wall clock, so those cases take
a few hundred milliseconds each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from microamp.clock import RealClock, SimulatedClock
from microamp.devices import Command, Device, TelemetryFrame, open_device
from microamp.devices.audio import AudioDevice
from microamp.devices.emulator import FirmwareEmulator
from microamp.errors import InvalidValue
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream

STEADY = Waveform(shape="square", amplitude_ua=100.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)
PHYSICS = "sim://?load=gel&ramp_s=0&seed=2"
# biphasic and fast enough for an AC-coupled sound card, so every backend can carry it
BIPHASIC = Waveform(
    shape="square", amplitude_ua=100.0, frequency_hz=100.0, duty=0.5, polarity="biphasic"
)


@dataclass
class Rig:
    device: Device
    wait: Callable[[float], None]

    def run(self, seconds: float, *, renew: bool = True) -> list[TelemetryFrame]:
        """Let ``seconds`` pass in 10 ms steps, renewing the command; return the frames."""
        frames: list[TelemetryFrame] = []
        steps = round(seconds / 0.01)
        for _ in range(steps):
            self.wait(0.01)
            if renew and self.device.command is not None:
                self.device.heartbeat()
            frames += self.device.poll()
        return frames


def _sim_rig(extra: str = "", profile: str = "professional") -> Iterator[Rig]:
    clock = SimulatedClock()
    with open_device(PHYSICS + extra, clock=clock, profile=get_profile(profile)) as device:
        yield Rig(device, clock.advance)


def _emulator_rig(extra: str = "", profile: str = "professional") -> Iterator[Rig]:
    with FirmwareEmulator(PHYSICS + extra).start() as emulator:
        clock = RealClock()
        url = f"serial://{emulator.path}"
        with open_device(url, clock=clock, profile=get_profile(profile)) as device:
            yield Rig(device, time.sleep)


def _audio_rig(extra: str = "", profile: str = "professional") -> Iterator[Rig]:
    assert not extra, "the sound card has no simulated physics to configure"
    clock = SimulatedClock()
    streams: list[FakeStream] = []

    def factory(**settings: Any) -> FakeStream:
        streams.append(FakeStream(**settings))
        return streams[-1]

    with AudioDevice(clock, get_profile(profile), factory) as device:

        def wait(seconds: float) -> None:
            clock.advance(seconds)
            streams[0].pull(max(1, round(seconds * 48_000 / 480)))

        yield Rig(device, wait)


RIGS = {"sim": _sim_rig, "emulator": _emulator_rig}
EVERY_BACKEND = {**RIGS, "audio": _audio_rig}


@pytest.fixture(params=sorted(RIGS))
def make_rig(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Rig]]:
    generators: list[Iterator[Rig]] = []

    def make(extra: str = "") -> Rig:
        generator = RIGS[request.param](extra)
        generators.append(generator)
        return next(generator)

    yield make
    for generator in generators:
        for _ in generator:
            pass


@pytest.fixture(params=sorted(EVERY_BACKEND))
def any_rig(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Rig]]:
    """A rig on each backend in turn, sound card included, under the profile given."""
    generators: list[Iterator[Rig]] = []

    def make(profile: str) -> Rig:
        generator = EVERY_BACKEND[request.param]("", profile)
        generators.append(generator)
        return next(generator)

    yield make
    for generator in generators:
        for _ in generator:
            pass


def test_capabilities_describe_a_constant_current_source(make_rig: Callable[[str], Rig]) -> None:
    caps = make_rig("").device.capabilities
    assert caps.max_current_ua == 1000.0
    assert caps.compliance_v == 40.0
    assert caps.min_frequency_hz <= 0.1 and caps.max_frequency_hz >= 1000


def test_delivered_current_follows_the_command_on_gel(make_rig: Callable[[str], Rig]) -> None:
    rig = make_rig("")
    rig.device.apply(Command(STEADY, expires_after_s=0.5))
    frames = rig.run(0.4)
    late = frames[-5:]
    assert late and all(f.delivered_ua == pytest.approx(100.0, abs=3.0) for f in late)
    assert all(10_000 < f.impedance_ohm < 40_000 for f in late)


def test_stop_takes_output_to_zero(make_rig: Callable[[str], Rig]) -> None:
    rig = make_rig("")
    rig.device.apply(Command(STEADY, expires_after_s=0.5))
    rig.run(0.2)
    rig.device.stop()
    frames = rig.run(0.2)
    assert rig.device.command is None
    assert frames[-3:] and all(f.commanded_ua == 0.0 for f in frames[-3:])


@pytest.mark.requirement("SAF-DEV-04", "SAF-AMP-01")
def test_command_over_the_maximum_is_refused_and_changes_nothing(
    make_rig: Callable[[str], Rig],
) -> None:
    rig = make_rig("")
    rig.device.apply(Command(STEADY, expires_after_s=0.5))
    with pytest.raises(InvalidValue):
        rig.device.apply(Command(STEADY.with_amplitude(1500.0), expires_after_s=0.5))
    command = rig.device.command
    assert command is not None and command.waveform.amplitude_ua == 100.0
    frames = rig.run(0.2)
    assert frames[-1].commanded_ua == pytest.approx(100.0)


def test_silent_host_leaves_the_device_at_zero_with_a_fault(make_rig: Callable[[str], Rig]) -> None:
    rig = make_rig("")
    rig.device.apply(Command(STEADY, expires_after_s=0.3))
    frames = rig.run(0.8, renew=False)
    codes = {f.code for f in rig.device.drain_faults()}
    # the emulator's 250 ms watchdog fires before the 300 ms expiry; the sim has only expiry
    assert codes & {FaultCode.COMMAND_EXPIRED, FaultCode.WATCHDOG}
    assert frames[-3:] and all(f.commanded_ua == 0.0 for f in frames[-3:])


def test_contact_loss_ends_in_zero_output_and_a_fault_event(make_rig: Callable[[str], Rig]) -> None:
    rig = make_rig("&fault=contact-loss@0.3")
    rig.device.apply(Command(STEADY, expires_after_s=0.5))
    frames = rig.run(0.7)
    faults = rig.device.drain_faults()
    assert [f.code for f in faults] == [FaultCode.CONTACT_LOST]
    assert rig.device.command is None
    assert frames[-3:] and all(f.commanded_ua == 0.0 for f in frames[-3:])


def test_close_is_idempotent_and_zeroes_output(make_rig: Callable[[str], Rig]) -> None:
    rig = make_rig("")
    rig.device.apply(Command(STEADY, expires_after_s=0.5))
    rig.device.close()
    rig.device.close()
    assert rig.device.closed and rig.device.command is None


# -- limits: one check before any driver, the same on every backend ------------------------


def _refused(rig: Rig, command: Command) -> InvalidValue:
    before = rig.device.command
    with pytest.raises(InvalidValue) as info:
        rig.device.apply(command)
    assert rig.device.command == before
    return info.value


def test_a_command_above_the_zone_cap_is_refused_naming_the_zone_layer(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("home")
    rig.device.apply(Command(BIPHASIC, zone="eyes"))
    error = _refused(rig, Command(BIPHASIC.with_amplitude(250.0), zone="eyes"))
    assert (error.field, error.value) == ("amplitude_ua", 250.0)
    assert "zone limit of 200 µA" in error.rule and "eyes" in error.rule
    assert "NuFACE Trinity" in error.rule  # the cap's source
    command = rig.device.command
    assert command is not None and command.commanded_ua == 100.0


def test_a_command_above_the_profile_maximum_is_refused_naming_the_profile_layer(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("home")
    error = _refused(rig, Command(BIPHASIC.with_amplitude(500.0), zone="cheeks"))
    assert (error.field, error.value) == ("amplitude_ua", 500.0)
    assert "profile limit of 400 µA" in error.rule and "home" in error.rule
    assert rig.device.command is None


def test_the_intensity_counts_against_the_limit_not_the_waveform_amplitude(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("home")
    error = _refused(rig, Command(BIPHASIC.with_amplitude(600.0), intensity=0.5, zone="eyes"))
    assert error.value == 300.0 and "zone limit of 200 µA" in error.rule
    rig.device.apply(Command(BIPHASIC.with_amplitude(600.0), intensity=0.3, zone="eyes"))
    command = rig.device.command
    assert command is not None and command.commanded_ua == pytest.approx(180.0)


def test_a_client_ceiling_carried_on_the_command_refuses_above_it(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("professional")
    error = _refused(rig, Command(BIPHASIC.with_amplitude(300.0), client_max_ua=250.0))
    assert "client limit of 250 µA" in error.rule
    rig.device.apply(Command(BIPHASIC.with_amplitude(200.0), client_max_ua=250.0))
    assert rig.device.command is not None


def test_a_practitioner_ceiling_below_the_client_one_is_the_one_named(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("professional")
    command = Command(
        BIPHASIC.with_amplitude(300.0), client_max_ua=250.0, practitioner_max_ua=120.0
    )
    error = _refused(rig, command)
    assert "practitioner limit of 120 µA" in error.rule


def test_a_frequency_outside_the_profile_range_is_refused_naming_the_profile(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("home")
    error = _refused(rig, Command(Waveform(shape="sine", amplitude_ua=100.0, frequency_hz=1200.0)))
    assert (error.field, error.value) == ("frequency_hz", 1200.0)
    assert "home profile" in error.rule and "1000 Hz" in error.rule


def test_a_command_at_the_limit_is_accepted_and_delivered(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("home")
    rig.device.apply(Command(BIPHASIC.with_amplitude(200.0), zone="eyes"))
    rig.run(0.1)
    command = rig.device.command
    assert command is not None and command.commanded_ua == 200.0


def test_a_silent_host_lets_the_command_expire_on_every_backend(
    any_rig: Callable[[str], Rig],
) -> None:
    rig = any_rig("home")
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


def test_stop_and_close_zero_output_on_every_backend(any_rig: Callable[[str], Rig]) -> None:
    rig = any_rig("home")
    rig.device.apply(Command(BIPHASIC))
    rig.run(0.1)
    rig.device.stop()
    frames = rig.run(0.1)
    assert rig.device.command is None
    assert frames[-3:] and all(f.commanded_ua == 0.0 for f in frames[-3:])
    rig.device.close()
    rig.device.close()
    assert rig.device.closed
