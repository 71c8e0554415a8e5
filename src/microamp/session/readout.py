"""`Readout`: what a live view shows of a session, as one immutable value per tick.

The runner replaces its readout at the end of every tick (and on every change of state), and a
reference swap is atomic, so another thread never sees a step that has just ended paired with a
repetition index from the next one: it sees one tick or the other, whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from microamp.session.schedule import Repetition, StepRun
from microamp.session.summary import SessionStatus

__all__ = ["Readout"]


@dataclass(frozen=True, slots=True)
class Readout:
    """The session as of one tick. ``intensity`` is the level the operator chose (0-1 of each
    step's requested current); ``amplitude_ua`` the step's peak at that level after every limit
    and ``cap_reason`` the limit that holds it down ("" when none does); ``output_level`` the
    intensity commanded now (0-1 of the step's capped waveform, ramps included)."""

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
