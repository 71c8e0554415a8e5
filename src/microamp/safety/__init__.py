"""Safety: limit profiles, layered constraints, the output guard and fault codes."""

from microamp.safety.adaptive import AdaptiveIntensity, Adjustment
from microamp.safety.check import LimitReport, Violation, check_waveform
from microamp.safety.constraints import Clamp, Constraint, Layer, amplitude_constraint
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.guard import GuardLimits, OutputGuard
from microamp.safety.limits import (
    BUILTIN_PROFILES,
    ZONES,
    Limit,
    LimitProfile,
    get_profile,
    load_profile,
)
from microamp.safety.monitor import MonitorLimits, TelemetryMonitor

__all__ = [
    "AdaptiveIntensity",
    "Adjustment",
    "BUILTIN_PROFILES",
    "ZONES",
    "Clamp",
    "Constraint",
    "Fault",
    "FaultCode",
    "GuardLimits",
    "Layer",
    "Limit",
    "LimitProfile",
    "LimitReport",
    "MonitorLimits",
    "OutputGuard",
    "TelemetryMonitor",
    "Violation",
    "amplitude_constraint",
    "check_waveform",
    "get_profile",
    "load_profile",
]
