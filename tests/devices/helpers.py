"""Shared helpers for the device tests: run a supervised device on a simulated clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, TelemetryFrame, open_device
from microamp.safety import Fault, get_profile
from microamp.stimulus import Waveform

SQUARE = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, polarity="alternating")
# on all the time (polarity flips every 0.5 s), so a fault always meets flowing current
STEADY = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


@dataclass
class Run:
    frames: list[TelemetryFrame] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    delivered_uc: float = 0.0
    output_on_after_fault: bool | None = None


def supervised_sim_run(
    url: str, waveform: Waveform = STEADY, *, duration_s: float = 3.0, tick_s: float = 0.01
) -> Run:
    """Drive ``url`` under a `Supervisor` on a simulated clock until done or faulted."""
    from microamp.devices.sim import SimDevice

    clock = SimulatedClock()
    profile = get_profile("home")
    run = Run()
    with open_device(url, clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(waveform, intensity=1.0))
        while clock.now() < duration_s and supervisor.running:
            clock.sleep(tick_s)
            update = supervisor.service()
            run.frames += update.frames
            run.faults += update.faults
            if update.faults:
                run.output_on_after_fault = _output_on(device)
        supervisor.stop()
        assert isinstance(device, SimDevice)
        run.delivered_uc = device.delivered_uc
    return run


def _output_on(device: object) -> bool:
    from microamp.devices.sim import SimDevice

    assert isinstance(device, SimDevice)
    return device.output_on
