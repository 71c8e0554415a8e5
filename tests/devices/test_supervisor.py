"""The supervisor: zero first, report second; adaptive intensity on a real simulated load."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.requirement("SAF-SUP-01")
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


@pytest.mark.requirement("SAF-SUP-02")
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


@pytest.mark.requirement("SAF-DEV-01")
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
        with pytest.raises(InvalidValue) as refused:
            Supervisor(device, profile, SimulatedClock())
    assert refused.value.as_dict() == {
        "field": "clock",
        "value": "'SimulatedClock'",
        "rule": "must be the device's own clock",
    }


@settings(max_examples=30)
@given(expiry_s=st.floats(0.05, 2.0), fraction=st.floats(0.05, 1.0))
def test_a_serviced_supervisor_always_leaves_the_command_most_of_its_life(
    expiry_s: float, fraction: float
) -> None:
    # serviced at least every heartbeat period, as the contract asks: after every service the
    # command has more than its expiry less one heartbeat period left, so it never lapses
    heartbeat_s = min(0.1, expiry_s / 4)
    tick_s = fraction * heartbeat_s
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile, adapt=False)
        supervisor.apply(Command(WAVEFORM, expires_after_s=expiry_s))
        while clock.now() < 1.5:
            clock.sleep(tick_s)
            assert supervisor.service().faults == []
            expires_at_s = device.expires_at_s
            assert expires_at_s is not None
            assert expires_at_s - clock.now() > expiry_s - heartbeat_s - 1e-9
        supervisor.stop()


def test_the_supervisor_renews_as_soon_as_a_heartbeat_period_has_passed() -> None:
    # times exact in binary: a 0.25 s expiry has a 0.0625 s heartbeat, serviced every 1/32 s
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile, adapt=False)
        supervisor.apply(Command(WAVEFORM, expires_after_s=0.25))
        for _ in range(64):
            clock.sleep(1 / 32)
            supervisor.service()
            expires_at_s = device.expires_at_s
            assert expires_at_s is not None and expires_at_s - clock.now() > 0.25 - 0.0625
        supervisor.stop()
