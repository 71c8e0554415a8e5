"""Home routines made personal, within the home profile.

- `personalise` drops the muscles and zones a person skips (the masseter for teeth grinders) and
  starts each zone at her own level: a fraction (0-1] of the step's intensity, so a level only
  ever lowers what the protocol asks for.
- `Personalisation` is what she chose (skipped, zone levels) as data a start request carries;
  `from_dict` checks every name and level, so whoever applies it applies only that.
- `build_routine` turns a person's picks (`RoutinePick`: a muscle, repetitions, seconds) into
  protocol data. It offers only what the home profile allows (`home_offer`): the home waveform,
  an intensity under each zone's cap, a total time under the profile's ``max_session_s``. What
  it returns is validated like any protocol file (`parse_protocol` under the profile), and an
  over-long or empty routine is refused with `InvalidValue` before that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from microamp.errors import InvalidValue
from microamp.protocols.anatomy import MUSCLES, Muscle
from microamp.protocols.schema import GLIDING, PlannedStep, Protocol
from microamp.protocols.validate import parse_protocol, plan_protocol
from microamp.safety.limits import ZONES, LimitProfile

__all__ = [
    "HOME_WAVEFORM",
    "MAX_SKIPPED",
    "Personalisation",
    "RoutinePick",
    "build_routine",
    "home_offer",
    "left_out_positions",
    "personalise",
    "routine_seconds",
    "skips_step",
]

# the waveform of the library's home routines: 300 µA, 10 Hz, alternating every 2.5 s
HOME_AMPLITUDE_UA = 300.0
HOME_WAVEFORM: dict[str, Any] = {
    "shape": "square", "amplitude_ua": HOME_AMPLITUDE_UA, "frequency_hz": 10.0, "duty": 0.5,
    "polarity": "alternating", "reversal_s": 2.5,
}  # fmt: skip
SECONDS_CHOICES: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0)
REPETITION_CHOICES: tuple[int, ...] = (1, 2, 3, 4, 5)
CUE_CHOICES: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0)
MIN_LEVEL = 0.1
RAMP_FRACTION = 0.2  # of each repetition, up and down, so the ramps always fit
# more names than there are zones and muscles is no choice of hers
MAX_SKIPPED = len(ZONES) + len(MUSCLES)


@dataclass(frozen=True, slots=True)
class Personalisation:
    """What she chose for her routines: the muscles or zones she skips, and the level (0-1 of
    each step's intensity) each zone starts from. ``content_hash``, when given, is the hash of
    the routine as she saw it: whoever rebuilds it refuses a routine that came out otherwise."""

    skipped: tuple[str, ...] = ()
    zone_levels: tuple[tuple[str, float], ...] = ()
    content_hash: str = ""

    @property
    def levels(self) -> dict[str, float]:
        return dict(self.zone_levels)

    def to_dict(self) -> dict[str, Any]:
        return {"skipped": list(self.skipped), "zone_levels": self.levels,
                "content_hash": self.content_hash}  # fmt: skip

    @classmethod
    def of(
        cls, skipped: Sequence[str], zone_levels: Mapping[str, float], content_hash: str = ""
    ) -> Personalisation:
        return cls.from_dict({"skipped": list(skipped), "zone_levels": dict(zone_levels),
                              "content_hash": content_hash})  # fmt: skip

    @classmethod
    def from_dict(cls, data: object) -> Personalisation:
        """The personalisation ``data`` describes. Raises `InvalidValue` naming the field for
        anything but known zone or muscle names, zone levels of `MIN_LEVEL`-1, and a hash."""
        if not isinstance(data, Mapping):
            raise InvalidValue("personal", data, "skipped names and zone levels")
        skipped, levels = data.get("skipped", []), data.get("zone_levels", {})
        content_hash = data.get("content_hash", "")
        if not isinstance(skipped, list | tuple) or len(skipped) > MAX_SKIPPED:
            raise InvalidValue(
                "personal.skipped", skipped, f"a list of at most {MAX_SKIPPED} names"
            )
        for name in skipped:
            if not isinstance(name, str) or (name not in ZONES and name not in MUSCLES):
                raise InvalidValue("personal.skipped", name, "a zone or a muscle by its name")
        if not isinstance(levels, Mapping):
            raise InvalidValue("personal.zone_levels", levels, "levels by zone")
        for zone, level in levels.items():
            if zone not in ZONES:
                raise InvalidValue(
                    f"personal.zone_levels.{zone}", zone, f"zones: {', '.join(ZONES)}"
                )
            if (
                isinstance(level, bool)
                or not isinstance(level, int | float)
                or not MIN_LEVEL <= level <= 1.0
            ):
                raise InvalidValue(f"personal.zone_levels.{zone}", level,
                                   f"a level is {MIN_LEVEL:g}-1")  # fmt: skip
        if not isinstance(content_hash, str) or len(content_hash) > 128:
            raise InvalidValue("personal.content_hash", content_hash, "a protocol's content hash")
        return cls(
            tuple(sorted(set(skipped))),
            tuple(sorted((str(z), float(v)) for z, v in levels.items())),
            content_hash,
        )


@dataclass(frozen=True, slots=True)
class RoutinePick:
    """One step a person picked: a muscle or region by name, times in s."""

    muscle: str
    repetitions: int = 3
    seconds: float = 5.0


def home_offer(profile: LimitProfile) -> dict[str, Any]:
    """What the builder offers under ``profile``: every muscle or region whose technique works on
    a home device, the repetitions, seconds and cue intervals, and the peak current per zone."""
    muscles = [m for m in MUSCLES.values() if _offered(m)]
    return {
        "muscles": [
            {"name": m.name, "label": m.label, "zone": m.zone, "technique": m.technique}
            for m in sorted(muscles, key=lambda m: (ZONES.index(m.zone), m.label))
        ],
        "repetitions": list(REPETITION_CHOICES),
        "seconds": list(SECONDS_CHOICES),
        "cue_intervals_s": list(CUE_CHOICES),
        "zone_peak_ua": {
            z: _zone_intensity(z, profile) * HOME_AMPLITUDE_UA for z in ZONES
        },  # fmt: skip
        "max_session_s": profile.max_session_s.value,
    }


def _offered(muscle: Muscle) -> bool:
    return muscle.zone in ZONES


def _zone_intensity(zone: str, profile: LimitProfile) -> float:
    """The intensity (0-1 of the home waveform) a zone may have: its cap over the amplitude,
    rounded down to 4 places so that it never lands a hair above the cap."""
    return min(1.0, math.floor(profile.zone_cap_ua(zone) / HOME_AMPLITUDE_UA * 1e4) / 1e4)


def routine_seconds(picks: Sequence[RoutinePick]) -> float:
    """The time the picks take: each side of a pair in turn."""
    return sum(p.seconds * p.repetitions * (2 if MUSCLES[p.muscle].paired else 1) for p in picks)


def build_routine(
    *,
    name: str,
    title: str,
    picks: Sequence[RoutinePick],
    cue_interval_s: float,
    profile: LimitProfile,
) -> Protocol:
    """A home protocol of ``picks``, validated under ``profile``.

    Raises `InvalidValue` naming the field for an unknown muscle, a choice not offered, no step,
    or a routine longer than the profile allows (with the limit's source).
    """
    if not picks:
        raise InvalidValue("steps", 0, "pick at least one muscle or region")
    if cue_interval_s not in CUE_CHOICES:
        raise InvalidValue("cue_interval_s", cue_interval_s, _one_of(CUE_CHOICES))
    for i, pick in enumerate(picks):
        _check_pick(i, pick)
    total_s = routine_seconds(picks)
    limit = profile.max_session_s
    if total_s > limit.value:
        raise InvalidValue(
            "steps", f"{total_s:g} s",
            f"the routine takes {total_s / 60:.1f} min, past the {profile.name} profile's "
            f"{limit.value / 60:g} min [{limit.source}]",
        )  # fmt: skip
    data = {
        "name": name,
        "title": title,
        "version": "1",
        "audience": "home",
        "description": f"A home routine built in microamp home: {title}.",
        "estimated_minutes": round(total_s / 60, 2),
        "defaults": {"waveform": dict(HOME_WAVEFORM), "cue_interval_s": cue_interval_s},
        "steps": [_step_data(p, profile) for p in picks],
    }
    return parse_protocol(data, profile)


def _one_of(choices: Sequence[float]) -> str:
    return f"must be one of {', '.join(f'{c:g}' for c in choices)}"


def _check_pick(i: int, pick: RoutinePick) -> None:
    at = f"steps[{i}]"
    muscle = MUSCLES.get(pick.muscle)
    if muscle is None or not _offered(muscle):
        raise InvalidValue(f"{at}.muscle", pick.muscle, "not a muscle or region the builder offers")
    if pick.repetitions not in REPETITION_CHOICES:
        raise InvalidValue(f"{at}.repetitions", pick.repetitions, _one_of(REPETITION_CHOICES))
    if pick.seconds not in SECONDS_CHOICES:
        raise InvalidValue(f"{at}.seconds", pick.seconds, _one_of(SECONDS_CHOICES))


def _step_data(pick: RoutinePick, profile: LimitProfile) -> dict[str, Any]:
    muscle = MUSCLES[pick.muscle]
    timed_by = "glide_s" if muscle.technique in GLIDING else "hold_s"
    step: dict[str, Any] = {
        "muscle": muscle.name,
        "repetitions": pick.repetitions,
        timed_by: pick.seconds,
        "ramp_s": round(pick.seconds * RAMP_FRACTION, 3),
        "intensity": _zone_intensity(muscle.zone, profile),
    }
    return step


def skips_step(step: PlannedStep, skipped: Sequence[str]) -> bool:
    """Whether ``skipped`` leaves ``step`` out: its zone or its muscle is skipped."""
    return step.zone in skipped or (step.muscle is not None and step.muscle in skipped)


def left_out_positions(
    protocol: Protocol, *, skipped: Sequence[str], profile: LimitProfile
) -> list[int]:
    """The positions (0-based, in ``protocol``'s planned steps) that `personalise` leaves out:
    by position, so two identical steps of which one is skipped are told apart."""
    return [i for i, step in enumerate(plan_protocol(protocol, profile))
            if skips_step(step, skipped)]  # fmt: skip


def personalise(
    protocol: Protocol,
    *,
    skipped: Sequence[str],
    zone_levels: Mapping[str, float],
    profile: LimitProfile,
) -> Protocol:
    """``protocol`` without the skipped muscles or zones, each zone at its level, validated
    under ``profile``. Raises `InvalidValue` for a level outside (0, 1] or when nothing is left."""
    for zone, level in zone_levels.items():
        if zone not in ZONES:
            raise InvalidValue(f"zone_levels.{zone}", zone, f"zones: {', '.join(ZONES)}")
        if not MIN_LEVEL <= level <= 1.0:
            raise InvalidValue(f"zone_levels.{zone}", level, f"a level is {MIN_LEVEL:g}-1")
    planned = plan_protocol(protocol, profile)
    data = protocol.model_dump(mode="json", exclude_none=True)
    steps = []
    for raw, step in zip(data["steps"], planned, strict=True):
        if skips_step(step, skipped):
            continue
        level = zone_levels.get(step.zone, 1.0)
        if level < 1.0:
            raw["intensity"] = max(math.floor(step.intensity * level * 1e4) / 1e4, 0.01)
        steps.append(raw)
    if not steps:
        raise InvalidValue("skipped", list(skipped), f"leaves no step of {protocol.name}")
    data["steps"] = steps
    data.pop("estimated_minutes", None)  # the routine is shorter now: no stale estimate
    return parse_protocol(data, profile)
