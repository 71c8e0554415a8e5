"""What the supervisor reports when the device fails under it: the device's own record of the
failure when it kept one, a driver error naming the failure when it did not, and every fault
stamped with the time output reached zero. Output is zero before the update is returned."""

from __future__ import annotations

from typing import Any

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, TelemetryFrame
from microamp.devices.load import LoadResult
from microamp.devices.sim import SimDevice, SimSettings
from microamp.devices.urls import parse_device_url
from microamp.safety import Fault, FaultCode, get_profile
from microamp.stimulus import Waveform

PROFILE = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=100.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def settings() -> SimSettings:
    return SimSettings.from_url(parse_device_url("sim://?load=gel&ramp_s=0&noise_ua=0"), PROFILE)


class FailingStage:
    """An output stage whose measurement breaks once ``armed``."""

    def __init__(self) -> None:
        self.armed = False

    def __call__(self, start: int, commanded_ua: Any, result: LoadResult) -> None:
        if self.armed:
            raise OSError("ADC read failed")


def test_a_device_that_fails_without_a_record_is_reported_as_a_driver_error_naming_why() -> None:
    # a closed device refuses every call with a DeviceError and records nothing of it
    clock = SimulatedClock()
    device = SimDevice(clock, PROFILE, settings())
    supervisor = Supervisor(device, PROFILE)
    supervisor.apply(Command(STEADY))
    clock.advance(0.25)
    device.close()

    update = supervisor.service()

    expected = Fault.of(
        FaultCode.DRIVER_ERROR,
        detected_t_s=0.25,
        zero_t_s=0.25,
        detail={"error": "the sim device is closed"},
    )
    assert update.faults == [expected]
    assert supervisor.faults == [expected]
    # False, not merely falsy: the update goes out as JSON
    assert update.running is False and supervisor.running is False
    assert update.to_dict() == {
        "frames": [],
        "faults": [expected.to_dict()],
        "adjustments": [],
        "running": False,
    }
    assert supervisor.output_intensity == 0.0


def test_a_device_that_recorded_its_own_failure_is_reported_by_that_record_alone() -> None:
    clock = SimulatedClock()
    stage = FailingStage()
    with SimDevice(clock, PROFILE, settings(), probes=stage) as device:
        supervisor = Supervisor(device, PROFILE)
        supervisor.apply(Command(STEADY))
        clock.advance(0.2)
        assert supervisor.service().faults == []
        stage.armed = True
        clock.advance(0.05)

        update = supervisor.service()

        assert [f.code for f in update.faults] == [FaultCode.DRIVER_ERROR]
        (fault,) = update.faults
        assert fault.detail == {"error": "OSError: ADC read failed"}
        assert fault.zero_t_s == pytest.approx(clock.now())
        assert not device.output_on and not update.running


class UntimedFaultSim(SimDevice):
    """A sim whose next poll records a fault that carries no zero time (as a fault message of an
    unknown code off the wire does), with output already off."""

    untimed: Fault | None = None

    def _read(self) -> list[TelemetryFrame]:
        frames = super()._read()
        if self.untimed is not None:
            self._stop()
            self._raise_fault(self.untimed)
            self.untimed = None
        return frames


def test_a_device_fault_without_a_zero_time_is_stamped_with_when_output_reached_zero() -> None:
    clock = SimulatedClock()
    with UntimedFaultSim(clock, PROFILE, settings()) as device:
        supervisor = Supervisor(device, PROFILE)
        supervisor.apply(Command(STEADY))
        clock.advance(0.25)
        assert supervisor.service().faults == []
        untimed = Fault.of(FaultCode.DRIVER_ERROR, detail={"error": "unknown fault code 99"})
        timed = Fault.of(FaultCode.DISCONNECTED, detected_t_s=0.1, zero_t_s=0.125)
        device.untimed = untimed
        clock.advance(0.25)

        update = supervisor.service()

        assert update.faults == [Fault.of(untimed.code, detail=untimed.detail, zero_t_s=0.5)]
        assert not device.output_on and not update.running
        # a fault that knows when output reached zero keeps its own time
        supervisor.apply(Command(STEADY))
        device.untimed = timed
        clock.advance(0.25)
        assert supervisor.service().faults == [timed]


class ClosedUnderTheRenewal(SimDevice):
    """A sim closed from elsewhere (a station shutting down) just as the supervisor renews."""

    def heartbeat(self) -> None:
        self.close()
        super().heartbeat()


def test_a_renewal_refused_without_a_record_is_reported_as_a_driver_error_naming_why() -> None:
    clock = SimulatedClock()
    device = ClosedUnderTheRenewal(clock, PROFILE, settings())
    supervisor = Supervisor(device, PROFILE, adapt=False)
    supervisor.apply(Command(STEADY, expires_after_s=0.4))
    clock.advance(0.05)
    assert supervisor.service().faults == []  # no renewal due yet: a heartbeat period is 0.1 s
    clock.advance(0.05)

    update = supervisor.service()

    assert update.faults == [
        Fault.of(
            FaultCode.DRIVER_ERROR,
            detected_t_s=0.1,
            zero_t_s=0.1,
            detail={"error": "the sim device is closed"},
        )
    ]
    assert update.running is False and device.closed and not device.output_on
