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

from microamp.clock import SimulatedClock
from microamp.devices.base import Command
from microamp.devices.capture import ProbeCapture, capture_format
from microamp.devices.load import LOAD_PRESETS
from microamp.devices.sim import SimDevice, SimSettings
from microamp.devices.supervisor import Supervisor
from microamp.devices.urls import parse_device_url
from microamp.errors import InvalidValue
from microamp.protocols.schema import Protocol
from microamp.safety.limits import LimitProfile
from microamp.session.runner import SessionRunner
from microamp.stimulus.waveform import Waveform

__all__ = ["RenderReport", "render_protocol", "render_waveform", "render_device"]

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
    load: str, profile: LimitProfile, rate_hz: float, capture: ProbeCapture | None = None
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
