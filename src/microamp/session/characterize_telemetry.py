"""Characterise a device that renders its own output (``serial://``) from its telemetry alone.

Such a device reports frames, not samples: over each window (10 ms on the firmware) the mean
absolute current commanded and delivered, the peak delivered current and the peak voltage. From
them this measures, over the last whole cycle of each run: the peak, the mean absolute current,
the compliance headroom, whether the command was delivered, the lowest setting as a share of
the highest, and fault reactions. The r.m.s., DC, charge per pulse and per phase and the current
density need the signed samples, so those figures are reported as not measurable, never guessed.

The device stays in one load (whatever is attached, named by the caller) and runs on its own
clock, so this takes real time: about as long as the runs themselves. Fault reactions: the host
goes silent and times the firmware's watchdog, and `watch_faults` times each fault the device
reports while output is on (a probe lifted by hand, or a fault injected into an emulator).
Reaction figures have the frame window as their resolution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from microamp.clock import Clock, RealClock
from microamp.devices.base import Command, Device, TelemetryFrame
from microamp.devices.load import LOAD_PRESETS
from microamp.devices.registry import open_device
from microamp.devices.supervisor import Supervisor
from microamp.errors import DeviceError, InvalidValue
from microamp.safety.faults import Fault
from microamp.safety.limits import LimitProfile
from microamp.safety.monitor import MonitorLimits, TelemetryMonitor
from microamp.session.characterize import (
    DELIVERY_TOLERANCE,
    FREQUENCY_HZ,
    TICK_S,
    cycle_s,
    lowest_setting_pct,
    run_s_for,
    waveform_families,
)
from microamp.session.characterize_report import (
    Characterization,
    FaultReaction,
    LowestSetting,
    WaveformRow,
)
from microamp.stimulus.waveform import Waveform

__all__ = ["NOT_MEASURABLE", "SILENT_HOST", "characterize_telemetry", "watch_faults"]

NOT_MEASURABLE = "not measurable: telemetry carries mean absolute currents, not signed samples"
SILENT_HOST = "silent-host"
# How long the host listens after output should have reached zero, to be sure it stayed there.
SETTLE_S = 0.3
# On the wall clock a loaded machine can pause a thread for tens of ms: silence is judged over
# half a second so that only a real fault is found (the firmware's watchdog is the backstop).
SILENCE_S = 0.5
# A device's own start ramp is waited out for at most this long past the host's run.
MAX_SETTLE_S = 10.0
# Two cycles agree within this (and 1 %): a frame's measurement noise, averaged over a cycle.
STEADY_UA = 1.0


@dataclass
class _Frames:
    """What one run reported: the frames while output was on, then those after it stopped."""

    frames: list[TelemetryFrame] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    after: list[TelemetryFrame] = field(default_factory=list)

    @property
    def every(self) -> list[TelemetryFrame]:
        return self.frames + self.after


def _supervisor(device: Device, profile: LimitProfile) -> Supervisor:
    monitor = TelemetryMonitor(MonitorLimits(silence_s=SILENCE_S))
    return Supervisor(device, profile, monitor=monitor, adapt=False)


def _drive(
    device: Device,
    profile: LimitProfile,
    command: Command,
    duration_s: float,
    *,
    settle: bool = False,
) -> _Frames:
    """Drive ``command`` under a `Supervisor` for ``duration_s`` on the device's clock; with
    ``settle``, on past it (up to `MAX_SETTLE_S`) until the last two cycles agree, so that a
    start ramp of the device's own, which the host cannot know, is waited out."""
    got = _Frames()
    supervisor = _supervisor(device, profile)
    clock = device.clock
    supervisor.apply(command)
    end_s = clock.now() + duration_s
    give_up_s = end_s + (MAX_SETTLE_S if settle else 0.0)
    while supervisor.running and clock.now() < give_up_s:
        if clock.now() >= end_s and (not settle or _steady(got.frames, cycle_s(command.waveform))):
            break
        clock.sleep(TICK_S)
        update = supervisor.service()
        got.frames += update.frames
        got.faults += update.faults
    supervisor.stop()
    if not device.closed:
        got.after += device.poll()
    return got


def _steady(frames: list[TelemetryFrame], cycle_length_s: float) -> bool:
    """Whether the last two whole cycles delivered the same mean and peak current."""
    last = _last_cycle(frames, cycle_length_s)
    before = _last_cycle(frames[: len(frames) - len(last)], cycle_length_s) if last else []
    if not before:
        return False

    def figures(cycle: list[TelemetryFrame]) -> tuple[float, float]:
        return sum(f.delivered_ua for f in cycle) / len(cycle), max(f.peak_ua for f in cycle)

    (mean_ua, peak_ua), (mean_before_ua, peak_before_ua) = figures(last), figures(before)
    return (
        abs(mean_ua - mean_before_ua) <= STEADY_UA + DELIVERY_TOLERANCE * mean_before_ua
        and abs(peak_ua - peak_before_ua) <= STEADY_UA + DELIVERY_TOLERANCE * peak_before_ua
    )


def _last_cycle(frames: list[TelemetryFrame], cycle_length_s: float) -> list[TelemetryFrame]:
    """The frames covering the last whole cycle while output was on (empty when too short).

    Any whole number of consecutive frames spanning one cycle covers every part of it once,
    wherever the frames fall against the waveform's edges: the cycle repeats exactly.
    """
    if not frames or frames[-1].window_s <= 0.0:
        return []
    count = round(cycle_length_s / frames[-1].window_s)
    return frames[-count:] if len(frames) >= count else []


def _row(
    name: str,
    waveform: Waveform,
    load: str,
    run: _Frames,
    compliance_v: float,
) -> WaveformRow:
    cycle = _last_cycle(run.frames, cycle_s(waveform))
    peak_ua = max((f.peak_ua for f in cycle), default=0.0)
    commanded_ua = sum(f.commanded_ua for f in cycle) / len(cycle) if cycle else 0.0
    mean_abs_ua = sum(f.delivered_ua for f in cycle) / len(cycle) if cycle else 0.0
    voltage_v = max((f.voltage_v for f in cycle), default=0.0)
    tolerance_ua = DELIVERY_TOLERANCE * waveform.amplitude_ua + 0.5
    tracked = bool(cycle) and abs(commanded_ua - mean_abs_ua) <= tolerance_ua
    reached = peak_ua >= (1 - DELIVERY_TOLERANCE) * waveform.amplitude_ua
    return WaveformRow(
        waveform=name,
        load=load,
        peak_ua=peak_ua,
        mean_abs_ua=mean_abs_ua,
        rms_ua=None,
        dc_ua=None,
        net_charge_per_pulse_uc=None,
        max_phase_charge_uc=None,
        density_ua_cm2=None,
        headroom_v=compliance_v - voltage_v,
        delivered=tracked and reached,
        faults=[str(f.code) for f in run.faults],
        plot_ua=[round(f.peak_ua, 3) for f in cycle],
        plot_rate_hz=1.0 / cycle[-1].window_s if cycle else 0.0,
        not_measured=NOT_MEASURABLE,
    )


def _lowest(device: Device, profile: LimitProfile, step_ua: float) -> LowestSetting:
    """The peak delivered at the smallest and the largest setting, from telemetry."""
    highest_ua = min(profile.max_amplitude_ua.value, device.capabilities.max_current_ua)
    lowest_ua = max(step_ua, device.capabilities.current_step_ua)
    peaks: list[float] = []
    for amplitude_ua in (lowest_ua, highest_ua):
        waveform = Waveform(
            "square", amplitude_ua, FREQUENCY_HZ, 0.5, "alternating", reversal_s=0.1
        )
        command = Command(waveform)
        run = _drive(device, profile, command, run_s_for(waveform, profile), settle=True)
        cycle = _last_cycle(run.frames, cycle_s(waveform))
        peaks.append(max((f.peak_ua for f in cycle), default=0.0))
    share_pct = lowest_setting_pct(peaks[0], peaks[1]) if peaks[1] > 0 else None
    return LowestSetting(peaks[0], peaks[1], share_pct)


def _zero_at_s(frames: list[TelemetryFrame], after_s: float) -> float | None:
    """The end of the last frame after ``after_s`` that still carried commanded current."""
    carried = [f.t_s for f in frames if f.commanded_ua > 0.0 and f.t_s > after_s]
    return carried[-1] if carried else None


def _listen(device: Device, seconds: float) -> list[TelemetryFrame]:
    """Frames for ``seconds`` without sending anything."""
    frames: list[TelemetryFrame] = []
    clock = device.clock
    end_s = clock.now() + seconds
    while clock.now() < end_s:
        clock.sleep(TICK_S)
        frames += device.poll()
    return frames


def _listen_for_fault(device: Device, limit_s: float) -> tuple[list[TelemetryFrame], list[Fault]]:
    """Frames, sending nothing, until the device reports a fault (or ``limit_s``), and a little
    after it to see that output stayed at zero."""
    frames: list[TelemetryFrame] = []
    faults: list[Fault] = []
    clock = device.clock
    end_s = clock.now() + limit_s
    while clock.now() < end_s:
        clock.sleep(TICK_S)
        frames += device.poll()
        if not faults and (faults := device.drain_faults()):
            end_s = min(end_s, clock.now() + SETTLE_S)
    return frames, faults


def _silent_host(device: Device, profile: LimitProfile) -> FaultReaction:
    """Output on, then the host says nothing: the time from its last message to zero output.

    The command is given 2 s to expire, so what zeroes it first is the device's own watch on
    the host (the firmware's watchdog), if it has one.
    """
    waveform = waveform_families()["alternating"]
    command = Command(waveform, expires_after_s=2.0)
    supervisor = _supervisor(device, profile)
    clock = device.clock
    supervisor.apply(command)
    end_s = clock.now() + run_s_for(waveform, profile)
    earlier: list[Fault] = []
    while supervisor.running and clock.now() < end_s:
        clock.sleep(TICK_S)
        earlier += supervisor.service().faults
    if not supervisor.running:
        # output stopped for a fault of its own before the host fell silent: nothing to time
        codes = [str(f.code) for f in earlier]
        return FaultReaction(SILENT_HOST, None, False, codes, measured_from="telemetry")
    # the last message: a renewal, timed from just before it was sent
    silent_from_s = clock.now()
    device.heartbeat()
    frames, faults = _listen_for_fault(device, command.expires_after_s + SETTLE_S)
    zero_s = _zero_at_s(frames, silent_from_s)
    stopped = device.command is None and bool(frames) and frames[-1].t_s > (zero_s or 0.0)
    supervisor.stop()
    return FaultReaction(
        kind=SILENT_HOST,
        reaction_s=max(0.0, (zero_s or silent_from_s) - silent_from_s) if stopped else None,
        delivered_after=False,
        faults=[str(f.code) for f in faults],
        measured_from="telemetry",
    )


def watch_faults(
    device: Device, profile: LimitProfile, watch_s: float, *, stop_after: int | None = None
) -> list[FaultReaction]:
    """Drive the alternating square for up to ``watch_s`` and time each fault the device reports.

    A reaction runs from the fault's onset as the device reports it (or from when output began,
    if the fault came first) to the end of the last telemetry frame that carried current. When
    the link itself is lost there are no more frames: the time is then the device's own account
    of when output reached zero (``measured_from`` says which). After each fault output is
    started again, until ``watch_s`` has passed, the link is gone or ``stop_after`` faults
    have been timed; each kind is timed once, at its first.
    """
    waveform = waveform_families()["alternating"]
    reactions: list[FaultReaction] = []
    timed: set[str] = set()
    clock = device.clock
    end_s = clock.now() + watch_s
    while clock.now() < end_s and not device.closed:
        started_s = clock.now()
        try:
            run = _drive(device, profile, Command(waveform), end_s - started_s)
        except DeviceError:
            break  # the link is gone: nothing more can be driven, and its fault was timed
        if not run.faults:
            break
        run.after += _listen(device, SETTLE_S)
        for fault in run.faults:
            if str(fault.code) not in timed:  # the first of each kind: a lifted probe repeats
                timed.add(str(fault.code))
                reactions.append(_reaction(fault, run.every, started_s))
        if stop_after is not None and len(reactions) >= stop_after:
            break
    return reactions


def _reaction(fault: Fault, frames: list[TelemetryFrame], started_s: float) -> FaultReaction:
    onset_s = max(fault.onset_t_s if fault.onset_t_s is not None else started_s, started_s)
    after = [f for f in frames if f.t_s > onset_s]
    if after:
        # telemetry went on past the onset: output was zero by the end of the last frame that
        # carried current, or by the end of the first frame after the onset if none did
        carried = [f.t_s for f in after if f.commanded_ua > 0.0]
        zero_s = carried[-1] if carried else after[0].t_s
        reaction_s, source = zero_s - onset_s, "telemetry"
    elif fault.zero_t_s is not None:
        reaction_s, source = fault.zero_t_s - onset_s, "device report"
    else:
        reaction_s, source = math.inf, "device report"
    return FaultReaction(
        kind=str(fault.code),
        reaction_s=max(0.0, reaction_s),
        delivered_after=False,
        faults=[str(fault.code)],
        measured_from=source,
    )


def characterize_telemetry(
    device_url: str,
    profile: LimitProfile,
    *,
    load: str,
    electrode_area_cm2: float,
    step_ua: float = 1.0,
    watch_s: float = 0.0,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
) -> Characterization:
    """Characterise the device at ``device_url`` into the ``load`` attached to it."""
    if load not in LOAD_PRESETS:
        raise InvalidValue("load", load, f"must be one of {', '.join(LOAD_PRESETS)}")
    if not (math.isfinite(watch_s) and 0.0 <= watch_s <= 600.0):
        raise InvalidValue("watch_s", watch_s, "must be from 0 to 600 s")
    say = progress or (lambda _message: None)
    with open_device(device_url, clock=clock or RealClock(), profile=profile) as device:
        compliance_v = device.capabilities.compliance_v
        rows: list[WaveformRow] = []
        for name, waveform in waveform_families().items():
            say(f"{name} into {load}")
            command = Command(waveform)
            run = _drive(device, profile, command, run_s_for(waveform, profile), settle=True)
            rows.append(_row(name, waveform, load, run, compliance_v))
        say(f"lowest setting into {load}")
        lowest = _lowest(device, profile, step_ua)
        say("fault reaction: the host falls silent")
        reactions = [_silent_host(device, profile)]
        if watch_s > 0:
            say(f"fault reactions: watching for {watch_s:g} s")
            reactions += watch_faults(device, profile, watch_s)
    return Characterization(
        device_url, profile.name, electrode_area_cm2, rows, lowest, reactions, "telemetry"
    )
