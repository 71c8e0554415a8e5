"""`SessionOptions`: how a session runs, beyond what its protocol and profile say."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from microamp.devices.base import MAX_EXPIRY_S
from microamp.errors import InvalidValue

__all__ = ["SessionOptions"]


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How to run: the session's level (0-1 of each step's capped amplitude), tick and expiry in s,
    the practitioner's and client's caps in µA, zones to leave out, and whether the supervisor
    may lower intensity when the skin's impedance rises (adaptive intensity)."""

    intensity: float = 1.0
    tick_s: float = 0.05
    expires_after_s: float = 0.5
    practitioner_max_ua: float | None = None
    client_max_ua: float | None = None
    avoid_zones: frozenset[str] = field(default_factory=frozenset)
    adaptive: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.intensity) and 0.0 < self.intensity <= 1.0):
            raise InvalidValue("intensity", self.intensity, "must be above 0 and at most 1")
        if not (math.isfinite(self.tick_s) and 0.005 <= self.tick_s <= 0.1):
            raise InvalidValue("tick_s", self.tick_s, "must be between 0.005 and 0.1 s")
        if not 4 * self.tick_s <= self.expires_after_s <= MAX_EXPIRY_S:
            raise InvalidValue(
                "expires_after_s",
                self.expires_after_s,
                f"must be at least 4 ticks ({4 * self.tick_s:g} s) and at most {MAX_EXPIRY_S:g} s",
            )
