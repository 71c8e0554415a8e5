"""A failing driver or a pulled cable zeroes output first, records the fault, then reports it.

On each backend where the failure can happen: the sim's output stage failing mid-block, the
serial host's request going unanswered (a failing driver) and its cable pulled from a real
firmware emulator, and the sound card's stream failing as the device closes. Each case checks
the output itself (the sim's stage, the emulator's stage, the sound card's renderer), not only
what the host believes, and that the fault names the time output reached zero. The device's
own fault crossing a heartbeat on the wire is that fault, not a driver error.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import serial

from devices.links import PHYSICS, FirmwareLink, close_both, linked_host
from microamp.clock import RealClock, SimulatedClock
from microamp.devices import Command, Supervisor, open_device
from microamp.devices.audio import AudioDevice
from microamp.devices.emulator import FirmwareEmulator
from microamp.devices.firmware import Firmware
from microamp.devices.load import LoadResult
from microamp.devices.serial_device import SerialDevice
from microamp.devices.sim import SimDevice, SimSettings
from microamp.devices.urls import parse_device_url
from microamp.errors import DeviceError
from microamp.safety import FaultCode, MonitorLimits, TelemetryMonitor, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream

PROFILE = get_profile("professional")
STEADY = Waveform(shape="square", amplitude_ua=100.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)
BIPHASIC = Waveform(
    shape="square", amplitude_ua=100.0, frequency_hz=100.0, duty=0.5, polarity="biphasic"
)


class FailingStage:
    """A probes hook that fails once ``armed``: an output stage whose measurement breaks."""

    def __init__(self) -> None:
        self.armed = False

    def __call__(self, start: int, commanded_ua: Any, result: LoadResult) -> None:
        if self.armed:
            raise OSError("ADC read failed")


@pytest.mark.requirement("SAF-DEV-05")
def test_a_failing_sim_stage_zeroes_output_records_a_driver_error_then_raises() -> None:
    clock = SimulatedClock()
    stage = FailingStage()
    settings = SimSettings.from_url(
        parse_device_url("sim://?load=gel&ramp_s=0&noise_ua=0"), PROFILE
    )
    with SimDevice(clock, PROFILE, settings, probes=stage) as device:
        device.apply(Command(STEADY, expires_after_s=1.0))
        clock.advance(0.2)
        assert device.poll() and device.output_on
        stage.armed = True
        clock.advance(0.05)
        with pytest.raises(DeviceError, match="ADC read failed"):
            device.poll()
        # by the time the caller hears of it, the stage is already off and the fault recorded
        assert not device.output_on and device.command is None
        (fault,) = device.drain_faults()
        assert fault.code == FaultCode.DRIVER_ERROR
        assert fault.zero_t_s == fault.detected_t_s == pytest.approx(clock.now())
        failed_s = clock.now()
        stage.armed = False
        clock.advance(0.1)
        after = [f for f in device.poll() if f.t_s - f.window_s >= failed_s - 1e-9]
        assert after and all(f.commanded_ua == 0.0 and f.peak_ua == 0.0 for f in after)


@pytest.mark.requirement("SAF-DEV-05")
def test_an_unanswered_serial_request_is_a_driver_error_and_the_firmware_output_reaches_zero() -> (
    None
):
    clock = SimulatedClock()
    host, link = linked_host(clock)
    try:
        supervisor = Supervisor(host, get_profile("home"))
        supervisor.apply(Command(STEADY, expires_after_s=1.0))
        clock.advance(0.05)
        supervisor.service()
        assert link.firmware.sim.output_on
        link.to_device.fates.extend(["drop"] * 100)  # nothing the host sends arrives any more
        faults = []
        while not faults and clock.now() < 2.0:
            clock.advance(0.01)
            faults = supervisor.service().faults
        assert {f.code for f in faults} == {FaultCode.DRIVER_ERROR}
        assert host.command is None and not supervisor.running
        assert all(f.zero_t_s is not None for f in faults)
        # the host could not confirm its STOP either: it counts output zero from the firmware's
        # watchdog, and the firmware does zero it by then
        zero_t_s = max(f.zero_t_s for f in faults if f.zero_t_s is not None)
        assert zero_t_s <= clock.now() + host.watchdog_s
        clock.advance(max(0.0, zero_t_s - clock.now()) + 0.01)
        link.in_waiting  # noqa: B018 -- lets the firmware run up to the present
        assert not link.firmware.sim.output_on
    finally:
        close_both(host, link)


class PullableCable:
    """A real pyserial port whose cable can be pulled: from then on every read and write fails
    as pyserial's do when a USB adapter is unplugged."""

    def __init__(self, port: serial.Serial) -> None:
        self._port = port
        self.pulled = False

    def _check(self) -> None:
        if self.pulled:
            raise serial.SerialException("device reports readiness to read but returned no data")

    @property
    def in_waiting(self) -> int:
        self._check()
        return int(self._port.in_waiting)

    def read(self, size: int = 1) -> bytes:
        self._check()
        return bytes(self._port.read(size))

    def write(self, data: bytes) -> int | None:
        self._check()
        return self._port.write(data)

    def close(self) -> None:
        self._port.close()


@pytest.mark.requirement("SAF-DEV-05")
def test_a_pulled_serial_cable_is_recorded_and_the_emulator_output_reaches_zero() -> None:
    with FirmwareEmulator("sim://?load=gel&ramp_s=0").start() as emulator:
        cable = PullableCable(serial.Serial(emulator.path, timeout=0))
        clock = RealClock()
        with SerialDevice(clock, PROFILE, cable) as device:
            monitor = TelemetryMonitor(MonitorLimits(silence_s=0.5))
            supervisor = Supervisor(device, PROFILE, monitor=monitor)
            supervisor.apply(Command(STEADY))
            deadline = time.monotonic() + 5.0
            while not emulator.sim.output_on and time.monotonic() < deadline:
                time.sleep(0.01)
                supervisor.service()
            assert emulator.sim.output_on
            cable.pulled = True
            pulled_s = clock.now()
            faults = []
            while not faults and time.monotonic() < deadline:
                time.sleep(0.01)
                faults = supervisor.service().faults
            assert [f.code for f in faults] == [FaultCode.DISCONNECTED]
            assert not supervisor.running and device.command is None
            fault = faults[0]
            # the host can no longer stop it: output is zero by the firmware's watchdog, counted
            # from the last message the host sent
            assert fault.zero_t_s is not None
            assert fault.zero_t_s <= pulled_s + device.watchdog_s + 1e-6
            while emulator.sim.output_on and time.monotonic() < deadline + 2.0:
                time.sleep(0.01)
            assert not emulator.sim.output_on
            assert clock.now() - pulled_s < device.watchdog_s + 1.0


class FailingStream(FakeStream):
    """A sound card unplugged: stopping its stream fails."""

    def stop(self) -> None:
        raise OSError("PortAudio: device unavailable")


@pytest.mark.requirement("SAF-DEV-05")
def test_a_sound_card_that_fails_as_it_closes_has_its_output_zeroed_first() -> None:
    clock = SimulatedClock()
    streams: list[FailingStream] = []

    def factory(**settings: Any) -> FailingStream:
        streams.append(FailingStream(**settings))
        return streams[-1]

    device = AudioDevice(clock, PROFILE, factory)
    device.apply(Command(BIPHASIC))
    clock.advance(0.01)
    assert abs(streams[0].pull(1)).max() > 0
    with pytest.raises(OSError, match="device unavailable"):
        device.close()
    assert device.closed and device.command is None
    # the renderer was dropped before the stream was touched: any block still pulled is silent
    assert not abs(streams[0].pull(3)).any()


class LatentLink(FirmwareLink):
    """A link on which the host's frames take ``latency_s`` to reach the firmware."""

    def __init__(self, firmware: Firmware, clock: SimulatedClock, latency_s: float) -> None:
        super().__init__(firmware)
        self.clock = clock
        self.latency_s = latency_s

    def write(self, data: bytes) -> int:
        self.clock.advance(self.latency_s)
        self.firmware.tick()
        return super().write(data)


def test_a_heartbeat_crossing_the_devices_own_fault_is_no_driver_error() -> None:
    clock = SimulatedClock()
    sim = open_device(PHYSICS + "&fault=contact-loss@0.205", clock=clock, profile=PROFILE)
    assert isinstance(sim, SimDevice)
    link = LatentLink(Firmware(sim, clock), clock, 0.0)
    host = SerialDevice(clock, get_profile("home"), link, reply_timeout_s=0.05)
    try:
        host.apply(Command(STEADY, expires_after_s=1.0))
        clock.advance(0.2)
        host.poll()
        # the probe lifts while the next heartbeat is on the wire: the firmware trips and
        # reports, then refuses the heartbeat for a command no longer in force
        link.latency_s = 0.01
        host.heartbeat()
        assert [f.code for f in host.drain_faults()] == [FaultCode.CONTACT_LOST]
        assert host.command is None and not sim.output_on
    finally:
        host.close()
        sim.close()
