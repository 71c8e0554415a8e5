"""Contact loss and compliance are judged on the samples where current was commanded, so short
pulses, low duty, low frequencies and bursts are watched as closely as a steady current."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from devices.helpers import supervised_sim_run
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Envelope, Renderer, Waveform

RATE_HZ = 20_000.0
SHORT_PULSE = Waveform(
    shape="pulse", amplitude_ua=300.0, frequency_hz=100.0, phase_us=300.0, polarity="biphasic"
)


def test_a_lifted_probe_under_short_biphasic_pulses_trips_within_a_millisecond() -> None:
    run = supervised_sim_run("sim://?load=gel&fault=contact-loss@2", SHORT_PULSE, duration_s=3.0)
    assert [f.code for f in run.faults] == [FaultCode.CONTACT_LOST]
    fault = run.faults[0]
    assert fault.onset_t_s is not None and fault.zero_t_s is not None
    assert 2.0 <= fault.onset_t_s < 2.0 + SHORT_PULSE.period_s
    assert fault.zero_t_s - fault.onset_t_s <= 1e-3


@st.composite
def allowed_waveforms(draw: st.DrawFn) -> Waveform:
    """Every waveform shape the profiles allow, with short pulses, low duty, slow rates, bursts.

    Polarity alternates or is biphasic so the run stays well inside the charge limits (those
    have their own tests); amplitudes stay where the monitor and the device both judge.
    """
    shape = draw(st.sampled_from(["square", "ramped-square", "sine", "triangle", "pulse"]))
    frequency_hz = draw(st.sampled_from([0.5, 2.0, 10.0, 40.0, 100.0, 300.0, 1000.0]))
    polarity = draw(st.sampled_from(["alternating", "biphasic"]))
    pulses = 2 if polarity == "biphasic" else 1
    duty = draw(st.sampled_from([0.02, 0.1, 0.5, 1.0]))
    phase_us = min(draw(st.sampled_from([100.0, 300.0, 1000.0, 20_000.0])), 1e6 / frequency_hz)
    burst = draw(st.booleans())
    on_s = (phase_us * 1e-6 if shape == "pulse" else duty / frequency_hz) / pulses
    # a phase shorter than two samples at 20 kHz renders as nothing at all: nothing to watch
    assume(shape in ("sine", "triangle") or on_s >= 2 / RATE_HZ)
    return Waveform(
        shape=shape,  # type: ignore[arg-type]
        amplitude_ua=draw(st.floats(60.0, 300.0)),
        frequency_hz=frequency_hz,
        duty=duty,
        polarity=polarity,  # type: ignore[arg-type]
        reversal_s=draw(st.sampled_from([0.5, 2.5])),
        rise_s=draw(st.sampled_from([0.0, 0.25])) * duty / frequency_hz / pulses,
        phase_us=phase_us,
        burst_on_s=0.3 if burst else None,
        burst_off_s=0.7 if burst else None,
    )


def _first_commanded_after(waveform: Waveform, t_s: float) -> float:
    """Device time of the first sample of at least 10 µA at or after ``t_s`` (as the sim renders)."""
    renderer = Renderer(
        waveform,
        RATE_HZ,
        envelope=Envelope(ramp_up_s=1.0, ramp_down_s=1.0),
        max_slew_ua_s=get_profile("home").max_slew_ua_s.value,
    )
    samples = np.abs(renderer.render(round((t_s + 2.2) * RATE_HZ)).samples_ua)
    start = math.ceil(t_s * RATE_HZ - 1e-6)
    later = np.flatnonzero(samples[start:] >= 10.0)
    assert later.size, "the waveform commands no current within 2.2 s of the lift"
    return (start + int(later[0])) / RATE_HZ


@settings(max_examples=20)
@given(waveform=allowed_waveforms(), lift_s=st.floats(1.2, 2.5))
def test_a_lift_is_seen_at_the_next_commanded_sample_and_zeroed_within_a_millisecond(
    waveform: Waveform, lift_s: float
) -> None:
    note(f"{waveform!r} lifted at {lift_s!r} s")
    url = f"sim://?load=gel&seed=2&fault=contact-loss@{lift_s!r}"
    run = supervised_sim_run(url, waveform, duration_s=lift_s + 2.2)
    assert [f.code for f in run.faults] == [FaultCode.CONTACT_LOST]
    fault = run.faults[0]
    assert fault.onset_t_s is not None and fault.zero_t_s is not None
    # the device's trip or the host's monitor, whichever sees it first, never before the lift
    assert lift_s - 1e-9 <= fault.onset_t_s <= fault.zero_t_s + 1e-9
    assert fault.zero_t_s - _first_commanded_after(waveform, lift_s) <= 1e-3
    assert run.output_on_after_fault is False


@settings(max_examples=20)
@given(waveform=allowed_waveforms(), seed=st.integers(0, 1000))
def test_no_allowed_waveform_trips_on_a_good_gel_contact(waveform: Waveform, seed: int) -> None:
    run = supervised_sim_run(f"sim://?load=gel&seed={seed}", waveform, duration_s=3.0)
    assert run.faults == []


def test_dry_skin_under_long_pulses_trips_compliance_within_a_millisecond_of_the_rail() -> None:
    long_pulse = Waveform(
        shape="pulse", amplitude_ua=300.0, frequency_hz=2.0, phase_us=100_000.0, polarity="biphasic"
    )
    run = supervised_sim_run("sim://?load=gel&fault=dry@2", long_pulse, duration_s=4.0)
    assert [f.code for f in run.faults] == [FaultCode.COMPLIANCE]
    fault = run.faults[0]
    assert fault.onset_t_s is not None and fault.zero_t_s is not None
    assert fault.zero_t_s - fault.onset_t_s <= 1e-3


def test_dry_skin_passes_short_biphasic_pulses_in_full_so_nothing_trips() -> None:
    # the skin's capacitance carries a 150 µs phase: the source never nears its rail
    run = supervised_sim_run("sim://?load=gel&fault=dry@2", SHORT_PULSE, duration_s=4.0)
    assert run.faults == []
    after = [f for f in run.frames if f.t_s > 2.01]
    assert after and all("compliance" not in f.flags for f in after)
    assert all(f.delivered_ua > 0.9 * f.commanded_ua for f in after if f.commanded_ua > 10)
