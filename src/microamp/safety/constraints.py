"""Layered constraints: the effective value is the minimum over every layer, each clamp explained.

After AndroidAPS's ``Constraint<T>``: a request is capped layer by layer (hardware, profile,
protocol, zone, client, practitioner, adaptive), every cap keeps its reason and source, and
`Constraint.explain` answers "why is my output 180 µA?".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from microamp.errors import InvalidValue
from microamp.safety.limits import LimitProfile

__all__ = ["Clamp", "Constraint", "Layer", "amplitude_constraint"]


class Layer(StrEnum):
    HARDWARE = "hardware"
    PROFILE = "profile"
    PROTOCOL = "protocol"
    ZONE = "zone"
    CLIENT = "client"
    PRACTITIONER = "practitioner"
    ADAPTIVE = "adaptive"


@dataclass(frozen=True, slots=True)
class Clamp:
    layer: Layer
    limit: float
    reason: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": str(self.layer),
            "limit": self.limit,
            "reason": self.reason,
            "source": self.source,
        }


@dataclass(slots=True)
class Constraint:
    """A requested value and every upper limit placed on it. Units are in ``name``."""

    name: str
    requested: float
    clamps: list[Clamp] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not math.isfinite(self.requested) or self.requested < 0:
            raise InvalidValue(self.name, self.requested, "must be a finite number, at least 0")

    def cap(self, layer: Layer, limit: float, reason: str, source: str) -> Constraint:
        """Add one upper limit. A non-finite or negative limit caps at zero: fail safe."""
        safe = limit if math.isfinite(limit) and limit >= 0 else 0.0
        self.clamps.append(Clamp(layer, safe, reason, source))
        return self

    @property
    def value(self) -> float:
        """The effective value: the request, never above any layer's limit."""
        return min([self.requested, *(c.limit for c in self.clamps)])

    @property
    def binding(self) -> Clamp | None:
        """The clamp that sets the value (the first-added of equals), or None if uncapped."""
        value = self.value
        if value >= self.requested:
            return None
        return next(c for c in self.clamps if c.limit == value)

    def explain(self) -> str:
        clamp = self.binding
        if clamp is None:
            return f"{self.name} is {self.requested:g} as requested (within every limit)"
        return (
            f"{self.name} is capped at {clamp.limit:g} (requested {self.requested:g}) "
            f"by the {clamp.layer} limit: {clamp.reason} [source: {clamp.source}]"
        )

    def to_dict(self) -> dict[str, Any]:
        binding = self.binding
        return {
            "name": self.name,
            "requested": self.requested,
            "value": self.value,
            "capped_by": binding.to_dict() if binding else None,
            "explanation": self.explain(),
            "layers": [c.to_dict() for c in self.clamps],
        }


def amplitude_constraint(
    requested_ua: float,
    profile: LimitProfile,
    *,
    zone: str | None = None,
    hardware_max_ua: float | None = None,
    protocol_max_ua: float | None = None,
    client_max_ua: float | None = None,
    practitioner_max_ua: float | None = None,
) -> Constraint:
    """The amplitude constraint through every layer that applies."""
    c = Constraint("amplitude_ua", requested_ua)
    if hardware_max_ua is not None:
        c.cap(
            Layer.HARDWARE, hardware_max_ua, "the device's maximum current", "device capabilities"
        )
    c.cap(
        Layer.PROFILE,
        profile.max_amplitude_ua.value,
        f"the {profile.name} profile's maximum amplitude",
        profile.max_amplitude_ua.source,
    )
    if protocol_max_ua is not None:
        c.cap(Layer.PROTOCOL, protocol_max_ua, "the protocol's maximum for this step", "protocol")
    if zone is not None and zone in profile.zone_caps_ua:
        cap = profile.zone_caps_ua[zone]
        c.cap(
            Layer.ZONE, cap.value, f"the {zone} zone cap of the {profile.name} profile", cap.source
        )
    if client_max_ua is not None:
        c.cap(Layer.CLIENT, client_max_ua, "the client's comfort limit", "client record")
    if practitioner_max_ua is not None:
        c.cap(Layer.PRACTITIONER, practitioner_max_ua, "the practitioner's setting", "practitioner")
    return c
