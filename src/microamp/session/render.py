"""Render what the probes would carry to a file, with no hardware: a whole session or a waveform.

Nothing here makes samples of its own. A protocol runs as a session (`SessionRunner`: prechecks,
ramps, cues, the level of each step) and a waveform under a `Supervisor`, both on the simulator
on simulated time, so every sample passes `Device.apply`'s limit check, the engine's `Renderer`,
the `OutputGuard` and the device's own trip, and the monitor watches the telemetry; the
simulator's probes hook (`ProbeCapture`) writes each block as the source drove it, beside the
current that flowed into the chosen load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from microamp.clock import SimulatedClock
from microamp.devices.base import Command
from microamp.devices.capture import ProbeCapture, capture_format
from microamp.devices.load import LOAD_PRESETS, LoadResult
from microamp.devices.sim import Probes, SimDevice, SimSettings
from microamp.devices.supervisor import Supervisor
from microamp.devices.urls import parse_device_url
from microamp.errors import InvalidValue
from microamp.protocols.schema import PlannedStep, Protocol
from microamp.safety.limits import LimitProfile
from microamp.session.level import cap_reason
from microamp.session.runner import SessionRunner
from microamp.session.schedule import Limits, step_constraint
from microamp.stimulus.metrics import mean_ua, peak_ua, phase_charges_uc, rms_ua
from microamp.stimulus.waveform import Waveform

__all__ = [
    "PULSE_WINDOWS",
    "PulseView",
    "RenderReport",
    "render_device",
    "render_protocol",
    "render_pulse",
    "render_step_pulse",
    "render_waveform",
]

TICK_S = 0.01


@dataclass
class RenderReport:
    """What was written: the file, its scale, and how the run ended."""

    path: str
    format: str
    load: str
    sample_rate_hz: float
    samples: int
    full_scale_ua: float
    step_ua: float | None
    peak_ua: float
    clipped_samples: int
    status: str
    faults: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.samples / self.sample_rate_hz

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "load": self.load,
            "sample_rate_hz": self.sample_rate_hz,
            "samples": self.samples,
            "duration_s": self.duration_s,
            "full_scale_ua": self.full_scale_ua,
            "step_ua": self.step_ua,
            "peak_ua": self.peak_ua,
            "clipped_samples": self.clipped_samples,
            "status": self.status,
            "faults": self.faults,
        }


def render_device(
    load: str, profile: LimitProfile, rate_hz: float, capture: Probes | None = None
) -> SimDevice:
    """A simulator on its own simulated clock into the named load, probes into ``capture``."""
    if load not in LOAD_PRESETS:
        raise InvalidValue("device_load", load, f"must be one of {', '.join(LOAD_PRESETS)}")
    url = parse_device_url(f"sim://?load={load}&rate_hz={rate_hz:g}&noise_ua=0&noise_v=0")
    return SimDevice(SimulatedClock(), profile, SimSettings.from_url(url, profile), probes=capture)


def _capture(out: Path, rate_hz: float, full_scale_ua: float) -> ProbeCapture:
    capture_format(out)
    if not out.parent.exists():
        raise InvalidValue("out", str(out), "its folder does not exist")
    return ProbeCapture(out, rate_hz, full_scale_ua)


def _report(
    capture: ProbeCapture, load: str, status: str, faults: list[dict[str, Any]]
) -> RenderReport:
    return RenderReport(
        path=str(capture.path),
        format=capture.format,
        load=load,
        sample_rate_hz=capture.sample_rate_hz,
        samples=capture.samples,
        full_scale_ua=capture.full_scale_ua,
        step_ua=capture.step_ua if capture.format == "wav" else None,
        peak_ua=capture.peak_ua,
        clipped_samples=capture.clipped,
        status=status,
        faults=faults,
    )


def render_protocol(
    protocol: Protocol,
    out: Path,
    *,
    profile: LimitProfile,
    load: str = "gel",
    rate_hz: float = 20_000.0,
) -> RenderReport:
    """Run ``protocol`` as a session on the simulator and write its probes to ``out``."""
    probe = render_device(load, profile, rate_hz)
    full_scale_ua = probe.capabilities.max_current_ua
    probe.close()
    with _capture(out, rate_hz, full_scale_ua) as capture:
        with render_device(load, profile, rate_hz, capture) as device:
            summary = SessionRunner(protocol, device, profile=profile).run()
    return _report(capture, load, str(summary.status), summary.faults)


def render_waveform(
    waveform: Waveform,
    duration_s: float,
    out: Path,
    *,
    profile: LimitProfile,
    load: str = "gel",
    rate_hz: float = 20_000.0,
    intensity: float = 1.0,
    zone: str | None = None,
) -> RenderReport:
    """Drive ``waveform`` for ``duration_s`` under a `Supervisor`; write its probes to ``out``."""
    if not (0 < duration_s <= profile.max_session_s.value):
        raise InvalidValue(
            "duration_s",
            duration_s,
            f"must be above 0 s and at most the {profile.name} profile's "
            f"{profile.max_session_s.value:g} s",
        )
    probe = render_device(load, profile, rate_hz)
    full_scale_ua = probe.capabilities.max_current_ua
    probe.close()
    faults: list[dict[str, Any]] = []
    with _capture(out, rate_hz, full_scale_ua) as capture:
        with render_device(load, profile, rate_hz, capture) as device:
            supervisor = Supervisor(device, profile)
            supervisor.apply(Command(waveform, intensity=intensity, zone=zone))
            clock = device.clock
            while supervisor.running and clock.now() < duration_s - 1e-9:
                clock.sleep(min(TICK_S, duration_s - clock.now()))
                faults += [f.to_dict() for f in supervisor.service().faults]
            supervisor.stop()
    return _report(capture, load, "aborted" if faults else "completed", faults)


FloatArray = npt.NDArray[np.float64]

# The windows the pulse view offers, by name: one period of the waveform or a fixed span.
PULSE_WINDOWS: dict[str, float | None] = {"period": None, "10ms": 0.01, "100ms": 0.1, "1s": 1.0}


class _Keep:
    """A probes hook that keeps every block (a pulse view is at most a few seconds)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[FloatArray, FloatArray, FloatArray]] = []

    def __call__(self, start: int, commanded_ua: FloatArray, result: LoadResult) -> None:
        self.blocks.append(
            (commanded_ua.copy(), result.delivered_ua.copy(), result.voltage_v.copy())
        )

    def joined(self, column: int, last: int) -> FloatArray:
        if not self.blocks:
            return np.zeros(0)
        return np.concatenate([b[column] for b in self.blocks])[-last:]


@dataclass
class PulseView:
    """A window of a waveform on the simulator's probes after the ramp, and its figures."""

    load: str
    profile: str
    window_s: float
    rate_hz: float
    commanded_ua: FloatArray = field(repr=False)
    delivered_ua: FloatArray = field(repr=False)
    voltage_v: FloatArray = field(repr=False)
    ceiling_ua: float
    compliance_v: float
    faults: list[dict[str, Any]]

    @property
    def peak_ua(self) -> float:
        return peak_ua(self.delivered_ua)

    @property
    def rms_ua(self) -> float:
        return rms_ua(self.delivered_ua)

    @property
    def dc_ua(self) -> float:
        return mean_ua(self.delivered_ua)

    def net_charge_per_pulse_uc(self, period_s: float) -> float:
        period = max(1, round(period_s * self.rate_hz))
        return float(np.sum(self.delivered_ua[-period:])) / self.rate_hz

    @property
    def max_phase_charge_uc(self) -> float:
        phases = phase_charges_uc(self.delivered_ua, self.rate_hz)
        return float(np.max(np.abs(phases))) if phases.size else 0.0

    @property
    def peak_voltage_v(self) -> float:
        return float(np.max(np.abs(self.voltage_v))) if self.voltage_v.size else 0.0

    @property
    def headroom_v(self) -> float:
        return self.compliance_v - self.peak_voltage_v


def render_pulse(
    waveform: Waveform,
    *,
    profile: LimitProfile,
    load: str = "gel",
    window: str = "period",
    zone: str | None = None,
    rate_hz: float = 100_000.0,
) -> PulseView:
    """Drive ``waveform`` on the simulator past its ramp and keep the last ``window``."""
    if window not in PULSE_WINDOWS:
        raise InvalidValue("window", window, f"must be one of {', '.join(PULSE_WINDOWS)}")
    window_s = PULSE_WINDOWS[window] or waveform.period_s
    keep = _Keep()
    faults: list[dict[str, Any]] = []
    device = render_device(load, profile, rate_hz, keep)
    with device:
        # the device's start ramp and the slew-limited rise, then a whole period before the
        # window, so the window shows the steady waveform
        ramp_s = device.settings.ramp_s + waveform.amplitude_ua / profile.max_slew_ua_s.value
        duration_s = ramp_s + waveform.period_s + window_s
        command = Command(waveform, zone=zone)
        ceiling_ua = device.ceiling_ua(command)
        compliance_v = device.capabilities.compliance_v
        supervisor = Supervisor(device, profile, adapt=False)
        supervisor.apply(command)
        clock = device.clock
        while supervisor.running and clock.now() < duration_s - 1e-9:
            clock.sleep(min(TICK_S, duration_s - clock.now()))
            faults += [f.to_dict() for f in supervisor.service().faults]
        supervisor.stop()
    last = max(1, round(window_s * rate_hz))
    return PulseView(
        load=load,
        profile=profile.name,
        window_s=window_s,
        rate_hz=rate_hz,
        commanded_ua=keep.joined(0, last),
        delivered_ua=keep.joined(1, last),
        voltage_v=keep.joined(2, last),
        ceiling_ua=ceiling_ua,
        compliance_v=compliance_v,
        faults=faults,
    )


@dataclass
class StepPulse:
    """A protocol step's pulse view and the limit that shaped it, in words."""

    asked_ua: float
    amplitude_ua: float
    limits: str
    view: PulseView


def render_step_pulse(
    step: PlannedStep, *, profile: LimitProfile, load: str = "gel", window: str = "period"
) -> StepPulse:
    """``step`` at full level through the same limits a session puts it through, then drawn."""
    constraint = step_constraint(step, profile, Limits())
    waveform = step.waveform.with_amplitude(constraint.value)
    reason = cap_reason(constraint)
    limits = (
        f"Asked for {constraint.requested:g} µA; {reason}."
        if reason
        else f"{constraint.requested:g} µA, within every limit of the {profile.name} profile."
    )
    view = render_pulse(waveform, profile=profile, load=load, window=window, zone=step.zone)
    return StepPulse(constraint.requested, constraint.value, limits, view)
