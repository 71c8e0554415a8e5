"""The protocol file schema (pydantic) and the plan a validated protocol resolves to.

A protocol file (TOML) has a header, ``[defaults]`` and ``[[steps]]``. Each step names a muscle
or region from `microamp.protocols.anatomy` (or only a zone), a side (``left``, ``right``,
``both`` = each side in turn, right first, or ``midline``), a technique, waveform overrides, an
intensity (0-1 of the waveform's amplitude), the seconds of each repetition (``hold_s`` for
holds and lifts, ``glide_s`` for glides and lymph strokes), repetitions, a cue and a probe path.
Every repetition ramps up from zero and back down over ``ramp_s``, so the probes move with the
output off. Units are in the field names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from microamp.protocols.anatomy import Point, Technique
from microamp.stimulus.waveform import Waveform

__all__ = [
    "AUDIENCES",
    "SIDES",
    "Audience",
    "Defaults",
    "PlannedStep",
    "Protocol",
    "Side",
    "Step",
]

Side = Literal["left", "right", "both", "midline"]
Audience = Literal["home", "professional"]
SIDES: tuple[str, ...] = ("left", "right", "both", "midline")
AUDIENCES: tuple[str, ...] = ("home", "professional")
GLIDING: frozenset[str] = frozenset({"glide", "lymph"})


class Defaults(BaseModel):
    """Values every step takes unless it sets its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waveform: dict[str, Any] = Field(default_factory=dict)
    intensity: float = Field(1.0, gt=0, le=1)
    hold_s: float = Field(5.0, gt=0, le=120)
    glide_s: float = Field(5.0, gt=0, le=120)
    repetitions: int = Field(3, ge=1, le=30)
    ramp_s: float = Field(0.5, ge=0, le=10)
    cue_interval_s: float = Field(5.0, gt=0, le=60)
    electrode_area_cm2: float = Field(1.0, gt=0, le=50)


class Step(BaseModel):
    """One step of a protocol as written in the file; unset values come from the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    muscle: str | None = None
    zone: str | None = None
    side: Side | None = None
    technique: Technique | None = None
    waveform: dict[str, Any] = Field(default_factory=dict)
    intensity: float | None = Field(None, gt=0, le=1)
    hold_s: float | None = Field(None, gt=0, le=120)
    glide_s: float | None = Field(None, gt=0, le=120)
    repetitions: int | None = Field(None, ge=1, le=30)
    ramp_s: float | None = Field(None, ge=0, le=10)
    cue_interval_s: float | None = Field(None, gt=0, le=60)
    cue: str = Field("", max_length=400)
    probe_path: list[tuple[float, float]] | None = Field(None, min_length=1, max_length=16)


class Protocol(BaseModel):
    """A protocol as written in its file. `microamp.protocols.validate` checks and plans it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    title: str = Field(min_length=1, max_length=120)
    version: str = Field(min_length=1, max_length=32)
    audience: Audience
    example: bool = False
    description: str = Field(min_length=1, max_length=4000)
    estimated_minutes: float | None = Field(None, gt=0, le=120)
    max_amplitude_ua: float | None = Field(None, gt=0, le=1000)
    defaults: Defaults = Field(default_factory=Defaults)
    steps: list[Step] = Field(min_length=1, max_length=200)

    def content_hash(self) -> str:
        """``sha256:<hex>`` of the protocol's content (not its comments or layout), for records."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step with every default resolved: what the runner executes. Times in s, current in µA.

    ``path_xy`` is on the person's right side for a paired muscle (mirror it for the left).
    """

    index: int
    muscle: str | None
    label: str
    zone: str
    side: Side
    technique: Technique
    waveform: Waveform
    intensity: float
    repetition_s: float
    repetitions: int
    ramp_s: float
    cue_interval_s: float
    cue: str
    path_xy: tuple[Point, ...]
    electrode_area_cm2: float

    @property
    def sides(self) -> tuple[str, ...]:
        """The sides worked in order: the right then the left for ``both``."""
        return ("right", "left") if self.side == "both" else (self.side,)

    @property
    def duration_s(self) -> float:
        return self.repetition_s * self.repetitions * len(self.sides)

    @property
    def requested_ua(self) -> float:
        """The peak current the protocol asks for in this step."""
        return self.waveform.amplitude_ua * self.intensity

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "muscle": self.muscle,
            "label": self.label,
            "zone": self.zone,
            "side": self.side,
            "technique": self.technique,
            "waveform": self.waveform.to_dict(),
            "intensity": self.intensity,
            "requested_ua": self.requested_ua,
            "repetition_s": self.repetition_s,
            "repetitions": self.repetitions,
            "ramp_s": self.ramp_s,
            "cue_interval_s": self.cue_interval_s,
            "duration_s": self.duration_s,
            "cue": self.cue,
            "path_xy": [list(p) for p in self.path_xy],
        }
