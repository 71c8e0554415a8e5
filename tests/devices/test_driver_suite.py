"""One driver suite, run on `sim` and on the serial emulator alike (python-can's back-to-back idea).

Each backend fixture yields a `Rig`: the device, and a way to let time pass on its clock. The
emulator runs on the wall clock, so those cases take a few hundred milliseconds each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from microamp.clock import RealClock, SimulatedClock
from microamp.devices import Command, Device, TelemetryFrame, open_device
from microamp.devices.emulator import FirmwareEmulator
from microamp.errors import InvalidValue
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

STEADY = Waveform(shape="square", amplitude_ua=100.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)
PHYSICS = "sim://?load=gel&ramp_s=0&seed=2"


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


def _sim_rig(extra: str = "") -> Iterator[Rig]:
    clock = SimulatedClock()
    with open_device(PHYSICS + extra, clock=clock, profile=get_profile("professional")) as device:
        yield Rig(device, clock.advance)


def _emulator_rig(extra: str = "") -> Iterator[Rig]:
    with FirmwareEmulator(PHYSICS + extra).start() as emulator:
        clock = RealClock()
        url = f"serial://{emulator.path}"
        with open_device(url, clock=clock, profile=get_profile("professional")) as device:
            yield Rig(device, time.sleep)


RIGS = {"sim": _sim_rig, "emulator": _emulator_rig}


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
