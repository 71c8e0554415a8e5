"""Every exception microamp raises on purpose.

The tree:

    MicroampError
    ├── InvalidValue            bad input: names the field, the value and the rule (CLI exit 2, API 422)
    │   └── InvalidValues       several InvalidValue at once (a whole file checked)
    ├── LimitExceeded           a request that a safety limit refuses outright
    ├── DeviceError             a device could not be opened, spoken to or driven
    │   ├── BackendUnavailable  a backend's optional dependency is missing
    │   └── DeviceURLError      a malformed device URL or an unknown backend (also InvalidValue)
    ├── SessionRefused          a session may not start (screening, consent, prechecks)
    ├── VisionUnavailable       photo measurement needs the optional extra microamp[vision]
    ├── NoFace                  a photo in which no face was found
    └── StoreError              the record store refused an operation
        ├── NotFound            no such record
        └── Conflict            a booking that collides, or falls outside hours (API 409)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = [
    "BackendUnavailable",
    "Conflict",
    "DeviceError",
    "DeviceURLError",
    "InvalidValue",
    "InvalidValues",
    "LimitExceeded",
    "MicroampError",
    "NoFace",
    "NotFound",
    "SessionRefused",
    "StoreError",
    "VisionUnavailable",
    "format_value",
]


class MicroampError(Exception):
    """Base of every error microamp raises on purpose."""


def format_value(value: object) -> str:
    """Render a value for an error message the way a person typed it."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


class InvalidValue(MicroampError, ValueError):
    """A value that breaks a rule. ``field`` names where it came from, ``rule`` what it must be."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}: {format_value(value)} is not allowed: {rule}")

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "value": format_value(self.value), "rule": self.rule}


class InvalidValues(InvalidValue):
    """Several invalid values found at once, every one kept."""

    def __init__(self, errors: Iterable[InvalidValue]) -> None:
        self.errors = list(errors)
        if not self.errors:
            raise ValueError("InvalidValues needs at least one error")
        first = self.errors[0]
        super().__init__(first.field, first.value, first.rule)
        self.args = ("\n".join(str(e) for e in self.errors),)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class LimitExceeded(MicroampError):
    """A request that a safety limit refuses outright (rather than clamps)."""

    def __init__(self, rule: str, value: float, limit: float, message: str) -> None:
        self.rule = rule
        self.value = value
        self.limit = limit
        super().__init__(message)


class DeviceError(MicroampError):
    """A device could not be opened, spoken to or driven."""


class BackendUnavailable(DeviceError):
    """A backend whose optional dependency is not installed."""


class DeviceURLError(DeviceError, InvalidValue):
    """A malformed device URL, an unknown backend or an unknown URL parameter."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        InvalidValue.__init__(self, field, value, rule)


class SessionRefused(MicroampError):
    """A session that may not start; ``reasons`` says why, one line each."""

    def __init__(self, reasons: Iterable[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons) or "session refused")


class VisionUnavailable(MicroampError):
    """Photo measurement asked for without its optional dependency (``microamp[vision]``)."""


class NoFace(MicroampError):
    """A photo in which the landmark model found no face."""


class StoreError(MicroampError):
    """The record store refused an operation."""


class NotFound(StoreError):
    """No record with that identity."""


class Conflict(StoreError):
    """A change refused by what is booked or done already: for the book, ``kind`` is ``room``,
    ``practitioner``, ``client``, ``hours`` or ``closure``; ``reason`` says it in words (the
    API's 409 detail), and ``refused`` what was refused, leading it on a page ("This booking
    is refused", "This step cannot change")."""

    def __init__(self, kind: str, reason: str, *, refused: str = "This booking is refused") -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.refused = refused
