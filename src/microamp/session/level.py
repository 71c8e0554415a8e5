"""The session's level on one step: a fraction of the step's requested current, through every limit.

The operator sets one level (0-1) for the session. On each step it asks for that fraction of the
step's requested peak, and the request goes through the same layered constraint as the step
itself (hardware, profile, protocol, zone, client, practitioner), so a limit that caps it keeps
its reason: "capped at 120 µA by the practitioner's setting".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from microamp.errors import InvalidValue
from microamp.safety.constraints import Clamp, Constraint
from microamp.safety.limits import LimitProfile
from microamp.session.events import IntensityChanged
from microamp.session.schedule import Limits, StepRun, step_constraint

__all__ = ["LEVEL_STEP", "StepLevel", "cap_reason", "checked_level"]

# The level controls (the console's starting level, the live slider) move in steps of 1 %, so
# the lowest non-zero level is below the 2 % of the highest that IEC 60601-2-10 allows.
LEVEL_STEP = 0.01


def checked_level(level: float) -> float:
    """``level`` as a float if it is a finite number from 0 to 1; else `InvalidValue`.

    Any level above 0 is accepted however small: no lowest setting is imposed from here."""
    if isinstance(level, bool) or not isinstance(level, int | float):
        raise InvalidValue("level", level, "must be a number from 0 to 1")
    if not (math.isfinite(level) and 0.0 <= level <= 1.0):
        raise InvalidValue("level", level, "must be a number from 0 to 1")
    return float(level)


def cap_reason(constraint: Constraint) -> str:
    """The binding limit in words ("capped at 200 µA by the eyes zone cap of the home profile"),
    or "" when no limit caps the request."""
    clamp = constraint.binding
    if clamp is None:
        return ""
    return f"capped at {clamp.limit:g} µA by {clamp.reason}"


@dataclass(frozen=True, slots=True)
class StepLevel:
    """``level`` of one step's requested current and the ``constraint`` it went through."""

    run: StepRun
    level: float
    constraint: Constraint

    @classmethod
    def of(cls, run: StepRun, level: float, profile: LimitProfile, limits: Limits) -> StepLevel:
        return cls(run, level, step_constraint(run.step, profile, limits, level))

    @property
    def requested_ua(self) -> float:
        return self.constraint.requested

    @property
    def amplitude_ua(self) -> float:
        """The peak at this level after every limit: never above the step's cap."""
        return min(self.constraint.value, self.run.amplitude_ua)

    @property
    def capped_by(self) -> Clamp | None:
        return self.constraint.binding

    @property
    def reason(self) -> str:
        return cap_reason(self.constraint)

    @property
    def fraction(self) -> float:
        """The command intensity (0-1 of the step's capped waveform) that gives this peak."""
        if self.run.constraint.binding is None:
            return self.level  # the waveform is the full request: exactly the level, unrounded
        cap_ua = self.run.amplitude_ua
        return 0.0 if cap_ua <= 0.0 else min(1.0, self.amplitude_ua / cap_ua)

    def changed(
        self, t_s: float, *, on_resume: bool, operator: dict[str, Any] | None = None
    ) -> IntensityChanged:
        """The event that says the operator's level is now this one, and what it gives."""
        clamp = self.capped_by
        return IntensityChanged(
            t_s=t_s,
            step=self.run.step.index,
            level=self.level,
            requested_ua=self.requested_ua,
            amplitude_ua=self.amplitude_ua,
            capped_by=str(clamp.layer) if clamp else None,
            cap_reason=self.reason,
            explanation=self.constraint.explain(),
            on_resume=on_resume,
            operator=operator,
        )
