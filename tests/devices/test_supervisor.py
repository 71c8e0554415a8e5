"""The supervisor: zero first, report second; adaptive intensity on a real simulated load."""

from __future__ import annotations

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, open_device
from microamp.devices.sim import SimDevice
from microamp.errors import InvalidValue
from microamp.safety import AdaptiveIntensity, FaultCode, get_profile
from microamp.stimulus import Waveform

WAVEFORM = Waveform(shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def test_supervisor_lowers_intensity_on_wet_skin_and_explains_why() -> None:
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://?load=wet", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile, adaptive=AdaptiveIntensity(comfort_v=15.0))
        supervisor.apply(Command(WAVEFORM, intensity=1.0))
        adjustments = []
        for _ in range(300):
            clock.sleep(0.01)
            update = supervisor.service()
            assert update.faults == []
            adjustments += update.adjustments
        voltages = [f.voltage_v for f in update.frames]
        supervisor.stop()
    assert adjustments and adjustments[0].to_intensity < 1.0
    assert "comfort bound" in adjustments[0].reason
    assert max(voltages) <= 15.0 * 1.05


def test_supervisor_zeroes_output_before_it_reports_a_fault() -> None:
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://?fault=stall@0.5", clock=clock, profile=profile) as device:
        assert isinstance(device, SimDevice)
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(WAVEFORM))
        faults = []
        while not faults:
            clock.sleep(0.01)
            faults = supervisor.service().faults
            if faults:
                assert not device.output_on
        assert not supervisor.running
    assert faults[0].code == FaultCode.TELEMETRY_SILENT
    assert faults[0].zero_t_s is not None and faults[0].detected_t_s is not None
    assert faults[0].zero_t_s >= faults[0].detected_t_s


def test_supervisor_renews_the_command_so_it_never_expires() -> None:
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(WAVEFORM, expires_after_s=0.2))
        for _ in range(500):
            clock.sleep(0.01)
            assert supervisor.service().faults == []
        assert supervisor.running
        supervisor.stop()


def test_unserviced_supervisor_lets_the_device_go_to_zero() -> None:
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(WAVEFORM, expires_after_s=0.2))
        clock.sleep(1.0)
        update = supervisor.service()
    assert [f.code for f in update.faults] == [FaultCode.COMMAND_EXPIRED]
    assert not update.running


def test_supervisor_refuses_a_foreign_clock() -> None:
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://", clock=clock, profile=profile) as device:
        with pytest.raises(InvalidValue, match="clock"):
            Supervisor(device, profile, SimulatedClock())
