"""`TelemetryMonitor`: the host's watch over what a device says it delivers.

It reads telemetry frames (duck-typed: ``t_s, commanded_ua, delivered_ua, voltage_v, flags``)
and returns a `Fault` for the first rule broken:

- ``contact_lost``: current is commanded but almost none flows (or the device flags an open
  circuit);
- ``compliance``: the source sits at its compliance voltage and delivers well short of the
  command, for ``compliance_frames`` frames in a row;
- ``current_deviation``: outside compliance, delivered differs from commanded by more than
  ``deviation_fraction`` for ``deviation_frames`` frames in a row (a broken output stage);
- ``telemetry_silent``: output is on and no frame arrived for ``silence_s`` (clock seconds).

A frame is judged on current when its commanded peak reaches ``min_judged_ua`` (a short pulse has
a small mean but a full peak) and its commanded mean reaches ``min_judged_mean_ua``, which keeps
the ratio of delivered to commanded mean far above measurement noise (0.5 µA per frame on the
sim: at 10 µA the contact threshold sits 18 sigma below a good frame). A frame with no current
commanded (between slow pulses, a burst's off time) is not judged and neither extends nor breaks
a run of short frames. So the host sees a lift within one frame of the first pulse that carries
at least ``min_judged_mean_ua`` x the frame window (0.1 µC in a 10 ms frame); thinner pulses
are watched by the device's own trip, which judges every commanded sample.
Frames flagged ``unmeasured`` (an open-loop sound card) are never judged on current. The monitor
decides; whoever holds the device zeroes output, then reports (see `devices.supervisor`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from microamp.safety.faults import Fault, FaultCode

__all__ = ["FrameLike", "MonitorLimits", "TelemetryMonitor"]


class FrameLike(Protocol):
    @property
    def t_s(self) -> float: ...
    @property
    def commanded_ua(self) -> float: ...
    @property
    def commanded_peak_ua(self) -> float: ...
    @property
    def delivered_ua(self) -> float: ...
    @property
    def voltage_v(self) -> float: ...
    @property
    def flags(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class MonitorLimits:
    """Thresholds: currents in µA, fractions of the commanded current, times in seconds."""

    min_judged_ua: float = 20.0
    min_judged_mean_ua: float = 10.0
    contact_fraction: float = 0.1
    compliance_fraction: float = 0.8
    compliance_frames: int = 2
    deviation_fraction: float = 0.25
    deviation_min_ua: float = 10.0
    deviation_frames: int = 3
    silence_s: float = 0.05


class TelemetryMonitor:
    """Judge frames as they arrive; `observe` returns the first fault found, or None."""

    def __init__(self, limits: MonitorLimits | None = None) -> None:
        self.limits = limits or MonitorLimits()
        self._watching = False
        self._last_seen_s = 0.0
        self._last_frame_t_s: float | None = None
        self._compliance_run: list[float] = []
        self._deviation_run: list[float] = []

    def start(self, now_s: float) -> None:
        """Output has started (or restarted) at ``now_s``: watch for silence from here."""
        self._watching = True
        self._last_seen_s = now_s
        self._compliance_run.clear()
        self._deviation_run.clear()

    def stop(self) -> None:
        """Output is off: silence is expected."""
        self._watching = False

    def observe(self, frames: Iterable[FrameLike], now_s: float) -> Fault | None:
        """Feed the frames that arrived by ``now_s``; a fault for the first broken rule."""
        for frame in frames:
            self._last_seen_s = now_s
            self._last_frame_t_s = frame.t_s
            if not self._watching:
                continue
            fault = self._judge(frame, now_s)
            if fault is not None:
                return fault
        if self._watching and now_s - self._last_seen_s > self.limits.silence_s:
            onset = self._last_frame_t_s if self._last_frame_t_s is not None else self._last_seen_s
            return Fault.of(
                FaultCode.TELEMETRY_SILENT,
                onset_t_s=onset,
                detected_t_s=now_s,
                detail={"silent_s": now_s - self._last_seen_s},
            )
        return None

    def _judge(self, frame: FrameLike, now_s: float) -> Fault | None:
        lim = self.limits
        if "unmeasured" in frame.flags:
            return None
        commanded = abs(frame.commanded_ua)
        delivered = abs(frame.delivered_ua)
        # a backend that reports no commanded peak still had one at least as large as its mean
        peak = max(abs(frame.commanded_peak_ua), commanded)
        if peak < lim.min_judged_ua or commanded < lim.min_judged_mean_ua:
            return None
        if "open_circuit" in frame.flags or delivered < lim.contact_fraction * commanded:
            return self._fault(FaultCode.CONTACT_LOST, frame.t_s, now_s, frame)
        at_rail = "compliance" in frame.flags
        short = at_rail and delivered < lim.compliance_fraction * commanded
        if _extend(self._compliance_run, short, frame.t_s) >= lim.compliance_frames:
            return self._fault(FaultCode.COMPLIANCE, self._compliance_run[0], now_s, frame)
        off = (
            commanded >= lim.deviation_min_ua
            and not at_rail
            and abs(delivered - commanded) > lim.deviation_fraction * commanded
        )
        if _extend(self._deviation_run, off, frame.t_s) >= lim.deviation_frames:
            return self._fault(FaultCode.CURRENT_DEVIATION, self._deviation_run[0], now_s, frame)
        return None

    @staticmethod
    def _fault(code: FaultCode, onset_s: float, now_s: float, frame: FrameLike) -> Fault:
        detail = {
            "commanded_ua": frame.commanded_ua,
            "delivered_ua": frame.delivered_ua,
            "voltage_v": frame.voltage_v,
            "flags": sorted(frame.flags),
        }
        return Fault.of(code, onset_t_s=onset_s, detected_t_s=now_s, detail=detail)


def _extend(run: list[float], condition: bool, t_s: float) -> int:
    """Track a run of consecutive frames meeting ``condition``; return its length."""
    if condition:
        run.append(t_s)
    else:
        run.clear()
    return len(run)
