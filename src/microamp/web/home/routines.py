"""The routines a household may run, as the guide page needs them.

The library's home protocols and the routines the person built, each personalised with what
she skips and her zone levels (`microamp.protocols.home_routines.personalise`) and validated
under the home profile; `guide_payload` is the JSON the guide page runs offline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.protocols.home_routines import personalise
from microamp.protocols.library import library_names, load_protocol
from microamp.protocols.schema import PlannedStep, Protocol
from microamp.protocols.validate import parse_protocol, plan_protocol
from microamp.safety.limits import LimitProfile, get_profile
from microamp.store.home import home_routines
from microamp.store.home_models import HomeAccount

__all__ = [
    "HOME_PROFILE",
    "Routine",
    "available_routines",
    "cue_times",
    "guide_payload",
    "routine_for",
]

HOME_PROFILE: LimitProfile = get_profile("home")


@dataclass(frozen=True, slots=True)
class Routine:
    """A routine ready to run: ``source`` is ``library`` or ``mine``; ``error`` says why it
    cannot run as personalised (everything skipped), with ``steps`` empty then."""

    name: str
    title: str
    source: str
    protocol: Protocol | None
    steps: tuple[PlannedStep, ...]
    error: str = ""

    @property
    def total_s(self) -> float:
        return sum(s.duration_s for s in self.steps)


def _library_home() -> list[Protocol]:
    found = []
    for name in library_names():
        protocol = load_protocol(name)
        if protocol.audience == "home":
            found.append(protocol)
    return found


def _personal(protocol: Protocol, account: HomeAccount, source: str) -> Routine:
    try:
        mine = personalise(protocol, skipped=account.skipped, zone_levels=account.zone_levels,
                           profile=HOME_PROFILE)  # fmt: skip
    except InvalidValue as exc:
        return Routine(protocol.name, protocol.title, source, None, (), error=exc.rule)
    steps = tuple(plan_protocol(mine, HOME_PROFILE))
    return Routine(mine.name, mine.title, source, mine, steps)


def available_routines(session: Session, account: HomeAccount) -> list[Routine]:
    """The library's home routines, then the person's own, as she runs them."""
    routines = [_personal(p, account, "library") for p in _library_home()]
    for row in home_routines(session, account):
        routines.append(_personal(parse_protocol(row.data, HOME_PROFILE), account, "mine"))
    return routines


def routine_for(session: Session, account: HomeAccount, name: str) -> Routine:
    """One routine by name; `InvalidValue` naming ``routine`` when there is none."""
    for routine in available_routines(session, account):
        if routine.name == name:
            return routine
    raise InvalidValue("routine", name, "no home routine by that name")


def cue_times(step: PlannedStep) -> list[float]:
    """Seconds into the step of each cue: every ``cue_interval_s``, and one at the step's end
    (the cue to move on), never two at once."""
    interval, duration = step.cue_interval_s, step.duration_s
    count = max(1, math.ceil(duration / interval - 1e-9))
    return [min(interval * (k + 1), duration) for k in range(count)]


def guide_payload(
    routine: Routine,
    *,
    used_today_s: float,
    today: str,
    max_daily_s: float,
    zone_levels: dict[str, float] | None = None,
) -> dict[str, Any]:
    """What the guide page runs: the steps with their cue times, the routine's hash, today's
    time left under the home profile."""
    assert routine.protocol is not None
    return {
        "name": routine.name,
        "title": routine.title,
        "hash": routine.protocol.content_hash(),
        "today": today,
        "used_today_s": used_today_s,
        "max_daily_s": max_daily_s,
        "limit_source": HOME_PROFILE.max_daily_s.source,
        "total_s": routine.total_s,
        "zone_levels": dict(zone_levels or {}),
        "steps": [
            {
                "index": s.index,
                "label": s.label,
                "zone": s.zone,
                "side": s.side,
                "sides": list(s.sides),
                "technique": s.technique,
                "cue": s.cue,
                "repetition_s": s.repetition_s,
                "repetitions": s.repetitions,
                "duration_s": s.duration_s,
                "cue_interval_s": s.cue_interval_s,
                "cues_s": cue_times(s),
                "intensity": s.intensity,
            }
            for s in routine.steps
        ],
    }
