"""Once output has ended under a supervisor (stopped, or zeroed on a fault), servicing it goes
on reading telemetry but never starts output again: no adjustment and no renewal reaches the
device. The frames read meanwhile still count as seen, so a silence after a restart is dated
from the last frame that arrived, not from before the stop."""

from __future__ import annotations

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, open_device
from microamp.devices.sim import SimDevice
from microamp.safety import AdaptiveIntensity, FaultCode, get_profile
from microamp.stimulus import Waveform

PROFILE = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=40.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def test_frames_read_after_a_stop_never_make_adaptive_intensity_start_output_again() -> None:
    # the skin dries at 1 s while nobody services the supervisor; it is stopped at 1.35 s with
    # those frames unread: adaptive intensity would lower the level on them, but output is off
    clock = SimulatedClock()
    with open_device("sim://?load=gel&fault=dry@1", clock=clock, profile=PROFILE) as device:
        assert isinstance(device, SimDevice)
        supervisor = Supervisor(device, PROFILE, adaptive=AdaptiveIntensity(comfort_v=2.0))
        supervisor.apply(Command(STEADY, intensity=1.0, expires_after_s=2.0))
        while clock.now() < 0.95:
            clock.sleep(0.01)
            assert supervisor.service().adjustments == []
        clock.sleep(0.4)
        supervisor.stop()

        for _ in range(300):  # and 3 s more, long enough for adaptive intensity to restore
            update = supervisor.service()
            assert update.adjustments == [] and update.faults == []
            assert update.running is False
            assert device.command is None and not device.output_on
            clock.sleep(0.01)


def test_servicing_a_faulted_supervisor_never_restarts_output() -> None:
    clock = SimulatedClock()
    with open_device(
        "sim://?load=wet&fault=disconnect@0.5", clock=clock, profile=PROFILE
    ) as device:
        assert isinstance(device, SimDevice)
        supervisor = Supervisor(device, PROFILE, adaptive=AdaptiveIntensity(comfort_v=2.0))
        supervisor.apply(Command(STEADY, intensity=1.0, expires_after_s=0.4))
        faults = []
        while not faults:
            clock.sleep(0.01)
            faults = supervisor.service().faults
        for _ in range(200):
            clock.sleep(0.01)
            update = supervisor.service()
            assert update.adjustments == [] and update.faults == []
            assert device.command is None and not device.output_on


def test_a_silence_after_a_restart_is_dated_from_the_last_frame_seen_while_output_was_off() -> None:
    clock = SimulatedClock()
    with open_device("sim://?load=gel&fault=stall@2", clock=clock, profile=PROFILE) as device:
        supervisor = Supervisor(device, PROFILE, adapt=False)
        supervisor.apply(Command(STEADY, intensity=0.5))
        while clock.now() < 1.0:
            clock.sleep(0.01)
            assert supervisor.service().faults == []
        supervisor.stop()
        last_frame_s = 0.0
        while clock.now() < 2.0 - 1e-9:  # output off; telemetry still arrives
            clock.sleep(0.01)
            frames = supervisor.service().frames
            last_frame_s = max([last_frame_s, *(f.t_s for f in frames)])
        assert last_frame_s > 1.9
        supervisor.apply(Command(STEADY, intensity=0.5))  # the telemetry path stalls from here
        faults = []
        while not faults:
            clock.sleep(0.01)
            faults = supervisor.service().faults

    assert [f.code for f in faults] == [FaultCode.TELEMETRY_SILENT]
    assert faults[0].onset_t_s == pytest.approx(last_frame_s)
