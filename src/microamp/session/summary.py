"""`SessionSummary`: the outcome of one session, as the CLI's ``--json`` and a recorder see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from microamp.session.dose import ZoneDose
from microamp.session.schedule import StepRun

__all__ = ["SessionStatus", "SessionSummary", "step_record"]


class SessionStatus(StrEnum):
    CREATED = "created"
    PRECHECKS = "prechecks"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"
    ABORTED = "aborted"
    REFUSED = "refused"

    @property
    def final(self) -> bool:
        return self in (self.COMPLETED, self.STOPPED, self.ABORTED, self.REFUSED)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What happened, from the device's own measurements. Charges in µC, times in s."""

    status: SessionStatus
    reason: str
    protocol: str
    protocol_version: str
    content_hash: str
    profile: str
    duration_s: float
    stimulation_s: float
    steps_completed: int
    steps_total: int
    steps_skipped: int
    delivered_charge_uc: float
    dose_by_zone: dict[str, ZoneDose]
    faults: list[dict[str, Any]]
    events_count: int
    steps: list[dict[str, Any]] = field(default_factory=list)
    prechecks: list[dict[str, Any]] = field(default_factory=list)
    profile_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "reason": self.reason,
            "protocol": self.protocol,
            "protocol_version": self.protocol_version,
            "content_hash": self.content_hash,
            "profile": self.profile,
            "profile_hash": self.profile_hash,
            "duration_s": self.duration_s,
            "stimulation_s": self.stimulation_s,
            "steps_completed": self.steps_completed,
            "steps_total": self.steps_total,
            "steps_skipped": self.steps_skipped,
            "delivered_charge_uc": self.delivered_charge_uc,
            "dose_by_zone": {zone: dose.to_dict() for zone, dose in self.dose_by_zone.items()},
            "faults": self.faults,
            "events_count": self.events_count,
            "steps": self.steps,
            "prechecks": self.prechecks,
        }


def step_record(run: StepRun, completed: bool) -> dict[str, Any]:
    """One step of the record: what was asked, what ran, and which limit set it."""
    binding = run.constraint.binding
    return {
        "step": run.step.index,
        "muscle": run.step.muscle,
        "zone": run.step.zone,
        "side": run.step.side,
        "technique": run.step.technique,
        "requested_ua": run.step.requested_ua,
        "amplitude_ua": run.amplitude_ua,
        "capped_by": str(binding.layer) if binding else None,
        "explanation": run.constraint.explain(),
        "completed": completed,
    }
