"""Evidence for a design history: the requirements register, its tests, SOUP and reports."""

from microamp.evidence.register import (
    HAZARDS,
    REGISTER,
    REQUIREMENTS,
    Hazard,
    Register,
    Requirement,
    unresolved_enforcers,
    validate_register,
)

__all__ = [
    "HAZARDS",
    "REGISTER",
    "REQUIREMENTS",
    "Hazard",
    "Register",
    "Requirement",
    "unresolved_enforcers",
    "validate_register",
]
