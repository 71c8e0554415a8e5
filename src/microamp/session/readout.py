"""`Readout`: what a live view shows of a session, as one immutable value per tick.

The runner replaces its readout at the end of every tick (and on every change of state), and a
reference swap is atomic, so another thread never sees a step that has just ended paired with a
repetition index from the next one: it sees one tick or the other, whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from microamp.devices.base import TelemetryFrame
from microamp.session.schedule import Repetition, StepRun
from microamp.session.summary import SessionStatus

__all__ = ["HOLD_SHORTFALL", "Readout", "delivered", "holding_note"]

# A delivered peak this far under the step's peak at the chosen level is being held down (below
# it, measurement noise and the sampling of a frame explain the gap).
HOLD_SHORTFALL = 0.9


def delivered(value_ua: float) -> float:
    """A measured current for display: noise around zero is zero, never a negative reading."""
    return max(0.0, value_ua) if math.isfinite(value_ua) else 0.0


def holding_note(
    amplitude_ua: float | None, frame: TelemetryFrame | None, adapted: bool, steady: bool
) -> str:
    """Plain words when the skin holds the current below the step's peak at the chosen level
    (adaptive intensity lowered it, or the source reached its compliance voltage): "dry skin:
    holding 34 µA of 300 µA". "" when nothing holds it, or during a ramp (``steady`` False)."""
    if amplitude_ua is None or frame is None or not steady or amplitude_ua <= 0:
        return ""
    if frame.commanded_ua <= 0 or not math.isfinite(frame.impedance_ohm):
        return ""  # a frame with output off (or open circuit) says nothing about holding
    at_rail = "compliance" in frame.flags
    held_ua = delivered(frame.peak_ua)
    if not (adapted or at_rail) or held_ua >= HOLD_SHORTFALL * amplitude_ua:
        return ""
    why = (
        "the device is at its compliance voltage"
        if at_rail
        else "adaptive intensity keeps the voltage comfortable"
    )
    kohm = frame.impedance_ohm / 1000
    return f"dry skin: holding {held_ua:.0f} µA of {amplitude_ua:.0f} µA ({why} at {kohm:.0f} kΩ)"


@dataclass(frozen=True, slots=True)
class Readout:
    """The session as of one tick. ``intensity`` is the level the operator chose (0-1 of each
    step's requested current); ``amplitude_ua`` the step's peak at that level after every limit
    and ``cap_reason`` the limit that holds it down ("" when none does); ``output_level`` the
    intensity commanded now (0-1 of the step's capped waveform, ramps included).
    ``delivered_ua`` (mean absolute) and ``delivered_peak_ua`` come from the last frame (device
    time ``frame_t_s``), never below zero; ``holding`` says when the skin holds the current
    under ``amplitude_ua`` (see `holding_note`)."""

    status: SessionStatus
    t_s: float = 0.0
    position_s: float = 0.0
    total_s: float = 0.0
    steps_completed: int = 0
    steps_total: int = 0
    step: StepRun | None = None
    repetition: Repetition | None = None
    intensity: float = 1.0
    output_level: float = 0.0
    amplitude_ua: float | None = None
    cap_reason: str = ""
    explanation: str = ""
    delivered_ua: float | None = None
    delivered_peak_ua: float | None = None
    frame_t_s: float | None = None
    holding: str = ""

    @property
    def step_remaining_s(self) -> float:
        return 0.0 if self.step is None else max(0.0, self.step.end_s - self.position_s)

    @property
    def repetition_remaining_s(self) -> float:
        rep = self.repetition
        return 0.0 if rep is None else max(0.0, rep.end_s - self.position_s)

    @property
    def progress(self) -> float:
        """The share of the protocol's time done, 0-1."""
        return min(1.0, self.position_s / self.total_s) if self.total_s > 0 else 0.0
