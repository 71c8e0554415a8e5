"""Protocols: facial anatomy, the protocol schema, validation against limits, and the library."""

from microamp.protocols.anatomy import (
    FORBIDDEN,
    MUSCLES,
    TECHNIQUES,
    ForbiddenPlacement,
    Muscle,
    get_muscle,
    nearest_muscles,
)
from microamp.protocols.library import LIBRARY_DIR, library_names, load_protocol, read_protocol_file
from microamp.protocols.schema import Defaults, PlannedStep, Protocol, Step
from microamp.protocols.validate import parse_protocol, plan_protocol, protocol_errors

__all__ = [
    "FORBIDDEN",
    "LIBRARY_DIR",
    "MUSCLES",
    "TECHNIQUES",
    "Defaults",
    "ForbiddenPlacement",
    "Muscle",
    "PlannedStep",
    "Protocol",
    "Step",
    "get_muscle",
    "library_names",
    "load_protocol",
    "nearest_muscles",
    "parse_protocol",
    "plan_protocol",
    "protocol_errors",
    "read_protocol_file",
]
