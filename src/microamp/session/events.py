"""Typed session events: what a recorder stores and a live view shows.

Every event is a frozen dataclass with ``kind`` (a stable string), ``t_s`` (session time in
seconds since the session began, pauses included) and `to_dict` (JSON-able). An event an
operator's control caused (paused, resumed, intensity_changed, a stopped ended) names the
``operator``: user id, display name and where the control came from. Subscribers are
plain callables taking an `Event`; telemetry frames go to their own subscribers.

Order in a session: ``started``, ``precheck`` (one per check), then either ``refused`` or, per
step, ``step_skipped`` or ``step_started`` -> ``cue`` ... -> ``step_completed``, with ``paused`` /
``resumed``, ``intensity_changed`` (the operator's level), ``intensity_adjusted`` (adaptive
intensity) and ``fault`` where they happen, and always ``ended`` last.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Cue",
    "Ended",
    "Event",
    "FaultRaised",
    "IntensityAdjusted",
    "IntensityChanged",
    "Paused",
    "PrecheckDone",
    "Refused",
    "Resumed",
    "SessionStarted",
    "StepCompleted",
    "StepSkipped",
    "StepStarted",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every session event."""

    kind: str = field(init=False, default="event")
    t_s: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, frozenset | tuple):
                data[key] = sorted(value) if isinstance(value, frozenset) else list(value)
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(Event):
    kind: str = field(init=False, default="started")
    protocol: str
    protocol_version: str
    content_hash: str
    profile: str
    device: dict[str, Any]
    steps_total: int
    planned_duration_s: float
    intensity: float
    profile_hash: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrecheckDone(Event):
    """One precheck's outcome; ``ok`` False comes with its ``reasons``; ``avoid_zones`` are the
    zones it takes out of the session (screening)."""

    kind: str = field(init=False, default="precheck")
    check: str
    ok: bool
    reasons: tuple[str, ...] = ()
    avoid_zones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(Event):
    """The session may not run: no current was, or will be, delivered."""

    kind: str = field(init=False, default="refused")
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepSkipped(Event):
    kind: str = field(init=False, default="step_skipped")
    step: int
    muscle: str | None
    zone: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStarted(Event):
    """A step begins. ``amplitude_ua`` is the step's cap (its peak at level 1 after every limit)
    and ``constraint`` says why; ``effective_ua`` is its peak at the session's level
    (``intensity``), with ``cap_reason`` naming the limit that holds that down ("" if none)."""

    kind: str = field(init=False, default="step_started")
    step: int
    position: int
    muscle: str | None
    label: str
    zone: str
    side: str
    technique: str
    cue: str
    duration_s: float
    repetitions: int
    requested_ua: float
    amplitude_ua: float
    intensity: float
    waveform: dict[str, Any]
    constraint: dict[str, Any]
    effective_ua: float
    cap_reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue(Event):
    """An operator cue: ``reason`` is ``side``, ``repetition`` or ``move`` (a beep to move on)."""

    kind: str = field(init=False, default="cue")
    step: int
    side: str
    repetition: int
    text: str
    reason: str
    beep: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class StepCompleted(Event):
    kind: str = field(init=False, default="step_completed")
    step: int
    zone: str
    charge_uc: float
    stimulation_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused(Event):
    kind: str = field(init=False, default="paused")
    step: int | None
    reason: str
    operator: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Event):
    kind: str = field(init=False, default="resumed")
    step: int | None
    paused_s: float
    operator: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensityChanged(Event):
    """The operator changed the session's level (0-1 of each step's requested current).

    ``requested_ua`` is that level of the step in force; ``amplitude_ua`` the peak after every
    limit; ``capped_by`` the layer that holds it down (None if none), ``cap_reason`` that limit
    in words and ``explanation`` the constraint's own account. ``on_resume``: the session was
    paused, and the level takes effect when it resumes.
    """

    kind: str = field(init=False, default="intensity_changed")
    step: int | None
    level: float
    requested_ua: float | None
    amplitude_ua: float | None
    capped_by: str | None
    cap_reason: str
    explanation: str
    on_resume: bool = False
    operator: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensityAdjusted(Event):
    """Adaptive intensity lowered (or restored) the level within the chosen one, and why."""

    kind: str = field(init=False, default="intensity_adjusted")
    step: int | None
    reason: str
    adjustment: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRaised(Event):
    """A fault stopped the output (already at zero when this is emitted)."""

    kind: str = field(init=False, default="fault")
    step: int | None
    code: str
    message: str
    fault: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ended(Event):
    """The last event: ``status`` is completed, stopped, aborted or refused; ``operator`` is
    who pressed Stop (None for any other end). ``stop_heard`` says how the Stop (or a fault
    raised outside the runner) that ended the session reached it: ``woke`` (it cut the
    runner's wait short, ``wait_left_s`` of session time before that wait's end), ``between``
    (it came while the runner worked and was taken at its next turn), ``deadline`` (it waited
    for the wait's end: a clock that cannot be woken); empty for any other end."""

    kind: str = field(init=False, default="ended")
    status: str
    reason: str
    steps_completed: int
    steps_total: int
    delivered_charge_uc: float
    duration_s: float
    operator: dict[str, Any] | None = None
    stop_heard: str = ""
    wait_left_s: float = 0.0
