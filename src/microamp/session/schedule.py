"""The session's timetable: each step's capped amplitude, its repetitions, and the ramp in each.

Time here is protocol time (seconds of work, pauses excluded). Each repetition ramps up from zero,
holds and ramps back to zero within its own seconds, so probes move between repetitions with no
output. A ramp is never steeper than the profile's slew limit allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from microamp.protocols.schema import PlannedStep
from microamp.safety.constraints import Constraint, amplitude_constraint
from microamp.safety.limits import LimitProfile
from microamp.stimulus.waveform import Waveform

__all__ = ["Limits", "Repetition", "StepRun", "build_schedule"]

# Ramps run this much slower than the slew limit, so the device's own slewing keeps up.
_SLEW_MARGIN = 1.25


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps above the profile that the session applies (None: that layer sets none), µA."""

    hardware_max_ua: float | None = None
    protocol_max_ua: float | None = None
    client_max_ua: float | None = None
    practitioner_max_ua: float | None = None


@dataclass(frozen=True, slots=True)
class Repetition:
    """One repetition on one side: ``start_s`` and ``duration_s`` in protocol time."""

    side: str
    number: int
    start_s: float
    duration_s: float
    ramp_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def level(self, t_s: float) -> float:
        """The output level (0-1) at protocol time ``t_s``: a trapezoid over the repetition."""
        into_s = t_s - self.start_s
        if into_s <= 0.0 or into_s >= self.duration_s:
            return 0.0
        if self.ramp_s <= 0.0:
            return 1.0
        return min(1.0, into_s / self.ramp_s, (self.duration_s - into_s) / self.ramp_s)


@dataclass(frozen=True, slots=True)
class StepRun:
    """A step as the session runs it: the amplitude after every limit, and its repetitions."""

    position: int
    step: PlannedStep
    constraint: Constraint
    waveform: Waveform
    repetitions: tuple[Repetition, ...]

    @property
    def amplitude_ua(self) -> float:
        return self.waveform.amplitude_ua

    @property
    def start_s(self) -> float:
        return self.repetitions[0].start_s

    @property
    def end_s(self) -> float:
        return self.repetitions[-1].end_s

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def step_constraint(
    step: PlannedStep, profile: LimitProfile, limits: Limits, level: float = 1.0
) -> Constraint:
    """``level`` (0-1) of the step's requested peak (amplitude x intensity) through every layer
    of limits; at level 1 its value is the step's cap."""
    return amplitude_constraint(
        step.requested_ua * level,
        profile,
        zone=step.zone,
        hardware_max_ua=limits.hardware_max_ua,
        protocol_max_ua=limits.protocol_max_ua,
        client_max_ua=limits.client_max_ua,
        practitioner_max_ua=limits.practitioner_max_ua,
    )


def _ramp_s(step: PlannedStep, peak_ua: float, profile: LimitProfile) -> float:
    slowest_s = peak_ua / profile.max_slew_ua_s.value * _SLEW_MARGIN
    return min(max(step.ramp_s, slowest_s), step.repetition_s / 2)


def build_schedule(
    steps: list[PlannedStep], profile: LimitProfile, limits: Limits
) -> list[StepRun]:
    """Every step's run, back to back from protocol time 0.

    The ramps are timed for each step's cap, the highest any session level can reach, so a
    level raised during the session never makes them steeper than the slew limit.
    """
    runs: list[StepRun] = []
    t_s = 0.0
    for position, step in enumerate(steps):
        constraint = step_constraint(step, profile, limits)
        waveform = step.waveform.with_amplitude(constraint.value)
        ramp_s = _ramp_s(step, constraint.value, profile)
        reps = []
        for side in step.sides:
            for number in range(1, step.repetitions + 1):
                reps.append(Repetition(side, number, t_s, step.repetition_s, ramp_s))
                t_s += step.repetition_s
        runs.append(StepRun(position, step, constraint, waveform, tuple(reps)))
    return runs
