"""The fault matrix and the monitor's reaction on constant-phase loads, one electrode at a time:
one probe lifting while the other stays on the skin, and one interface drying out."""

from __future__ import annotations

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, open_device
from microamp.devices.injection import DRYING_S
from microamp.safety import AdaptiveIntensity, FaultCode, get_profile
from microamp.stimulus import Waveform

from .helpers import supervised_sim_run

PULSED = Waveform(
    shape="pulse", amplitude_ua=300.0, frequency_hz=100.0, phase_us=300.0, polarity="biphasic"
)


@pytest.mark.parametrize("electrode", ["1", "2"])
@pytest.mark.parametrize("load", ["gel", "wet"])
def test_one_electrode_lifting_on_a_cpe_load_ends_in_zero_output_and_contact_lost(
    electrode: str, load: str
) -> None:
    run = supervised_sim_run(f"sim://?load={load}&fault=contact-loss:{electrode}@1.2", duration_s=2)
    assert [f.code for f in run.faults] == [FaultCode.CONTACT_LOST]
    fault = run.faults[0]
    assert run.output_on_after_fault is False
    assert fault.onset_t_s is not None and fault.zero_t_s is not None
    assert 1.2 - 1e-9 <= fault.onset_t_s and fault.zero_t_s - 1.2 <= 0.001


def test_one_electrode_lifting_under_short_pulses_is_seen_at_the_next_pulse() -> None:
    run = supervised_sim_run("sim://?load=gel&fault=contact-loss:1@1.2031", PULSED, duration_s=2)
    assert [f.code for f in run.faults] == [FaultCode.CONTACT_LOST]
    assert run.faults[0].zero_t_s is not None and run.faults[0].zero_t_s - 1.2031 <= 0.011


@pytest.mark.parametrize("electrode", ["1", "2"])
def test_one_electrode_drying_saturates_the_source_and_trips_compliance(electrode: str) -> None:
    # without adaptive intensity, nothing lowers the current as the interface dries
    steady = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0)
    clock = SimulatedClock()
    profile = get_profile("home")
    url = f"sim://?load=gel&fault=drying:{electrode}@1.0"
    with open_device(url, clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile, adapt=False)
        supervisor.apply(Command(steady, intensity=1.0))
        faults, frames = [], []
        while clock.now() < 1.0 + DRYING_S + 1.0 and supervisor.running:
            clock.sleep(0.01)
            update = supervisor.service()
            faults += update.faults
            frames += update.frames
        output_on = device.command is not None
    assert [f.code for f in faults] == [FaultCode.COMPLIANCE]
    assert not output_on
    # the voltage the source needed climbed as the interface dried, before the rail was reached
    before = [f.voltage_v for f in frames if f.t_s < 1.0 and f.commanded_ua > 100]
    rising = [f.voltage_v for f in frames if f.t_s > 1.0 and f.commanded_ua > 100]
    assert before and rising and max(rising) > 1.5 * max(before)
    assert faults[0].onset_t_s is not None and faults[0].onset_t_s > 1.0


def test_adaptive_intensity_follows_one_drying_electrode_down_without_a_fault() -> None:
    # 300 µA: gel needs about 6 V; one dry interface (300 kohm) would need 93 V, past the rail
    steady = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0)
    clock = SimulatedClock()
    profile = get_profile("home")
    url = "sim://?load=gel&fault=drying:2@1.0"
    with open_device(url, clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile, adaptive=AdaptiveIntensity(comfort_v=15.0))
        supervisor.apply(Command(steady, intensity=1.0))
        faults, adjustments, frames = [], [], []
        while clock.now() < 1.0 + DRYING_S + 1.0:
            clock.sleep(0.01)
            update = supervisor.service()
            faults += update.faults
            adjustments += update.adjustments
            frames += update.frames
        supervisor.stop()
    assert faults == []
    assert adjustments and adjustments[-1].to_intensity < 0.3
    late = [f.voltage_v for f in frames if f.t_s > 1.0 + DRYING_S]
    assert late and max(late) <= 15.0 * 1.05
