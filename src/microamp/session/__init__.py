"""Guided sessions: the runner, its events, prechecks and the dose delivered per zone."""

from microamp.session.controls import Operator
from microamp.session.dose import DoseLedger, ZoneDose
from microamp.session.events import (
    Cue,
    Ended,
    Event,
    FaultRaised,
    IntensityAdjusted,
    IntensityChanged,
    Paused,
    PrecheckDone,
    Refused,
    Resumed,
    SessionStarted,
    StepCompleted,
    StepSkipped,
    StepStarted,
)
from microamp.session.level import StepLevel
from microamp.session.prechecks import (
    CheckResult,
    Precheck,
    PrecheckContext,
    Prechecks,
    check_contact,
    probe_device,
)
from microamp.session.readout import Readout
from microamp.session.runner import (
    EventSubscriber,
    SessionOptions,
    SessionRunner,
    TelemetrySubscriber,
)
from microamp.session.schedule import Limits, Repetition, StepRun, build_schedule
from microamp.session.summary import SessionStatus, SessionSummary

__all__ = [
    "CheckResult",
    "Cue",
    "DoseLedger",
    "Ended",
    "Event",
    "EventSubscriber",
    "FaultRaised",
    "IntensityAdjusted",
    "IntensityChanged",
    "Limits",
    "Operator",
    "Paused",
    "Precheck",
    "PrecheckContext",
    "PrecheckDone",
    "Prechecks",
    "Readout",
    "Refused",
    "Repetition",
    "Resumed",
    "SessionOptions",
    "SessionRunner",
    "SessionStarted",
    "SessionStatus",
    "SessionSummary",
    "StepCompleted",
    "StepLevel",
    "StepRun",
    "StepSkipped",
    "StepStarted",
    "TelemetrySubscriber",
    "ZoneDose",
    "build_schedule",
    "check_contact",
    "probe_device",
]
