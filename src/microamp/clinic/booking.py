"""The appointment book's rules, without storage: states and their transitions, opening
hours, closures, a service's manual steps, and when two bookings collide.

Times here are aware datetimes; the clinic's wall clock is its IANA zone (`zoneinfo`).
An appointment holds its room, practitioner and client from its start until its end plus the
service's buffer (``clear_at``): two bookings collide when those spans overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from microamp.errors import InvalidValue

__all__ = [
    "ACTIVE_STATES",
    "GRID_MINUTES",
    "STATES",
    "STEP_KINDS",
    "TRANSITIONS",
    "WEEKDAYS",
    "ClosureDays",
    "Hours",
    "check_transition",
    "clinic_zone",
    "closure_reason",
    "hours_as_json",
    "hours_reason",
    "local_to_utc",
    "overlaps",
    "parse_hours",
    "parse_steps",
    "slot_end",
    "working_hours_text",
    "working_reason",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GRID_MINUTES = 15
STATES = (
    "booked",
    "confirmed",
    "checked_in",
    "in_treatment",
    "completed",
    "cancelled",
    "no_show",
)
# an appointment in one of these holds its room, practitioner and client
ACTIVE_STATES = ("booked", "confirmed", "checked_in", "in_treatment", "completed")
TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "booked": ("confirmed", "checked_in", "cancelled", "no_show"),
    "confirmed": ("checked_in", "cancelled", "no_show"),
    "checked_in": ("in_treatment", "cancelled"),
    "in_treatment": ("completed",),
    "completed": (),
    "cancelled": (),
    "no_show": (),
}
STEP_KINDS = (
    "consultation",
    "cleansing",
    "skin_analysis",
    "steam_exfoliation",
    "massage",
    "microcurrent",
    "mask",
    "serums",
    "home_care_advice",
    "led",
)
MAX_STEP_MINUTES = 240
# a booking's year: far enough for any clinic, near enough that a day's arithmetic never
# leaves the calendar
FIRST_YEAR, LAST_YEAR = 2000, 2199


def check_transition(current: str, target: str) -> None:
    """Raise `InvalidValue` unless an appointment may go from ``current`` to ``target``."""
    if target not in STATES:
        raise InvalidValue("state", target, f"must be one of {', '.join(STATES)}")
    if target not in TRANSITIONS.get(current, ()):
        allowed = ", ".join(TRANSITIONS.get(current, ())) or "nothing (it is final)"
        raise InvalidValue("state", target, f"an appointment {current} may become {allowed}")


def clinic_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (such as Europe/Lisbon), or `InvalidValue`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue("time_zone", name, "an IANA time zone such as Europe/Lisbon") from exc


Hours = dict[str, list[tuple[time, time]]]


def _clock(field: str, text: Any) -> time:
    try:
        parsed = time.fromisoformat(str(text))
    except ValueError as exc:
        raise InvalidValue(field, text, "a time of day HH:MM") from exc
    if parsed.second or parsed.microsecond or parsed.tzinfo is not None:
        raise InvalidValue(field, text, "a time of day HH:MM")
    return parsed


def parse_hours(raw: Mapping[str, Any], *, name: str = "opening_hours") -> Hours:
    """Opening hours ``{"mon": [["09:00", "18:00"]], ...}`` (a weekday missing or empty is
    closed; a day may have several periods, in order, not overlapping) as times.
    Raises `InvalidValue` naming the weekday (``name.mon``: a practitioner's working hours
    are read by the same rule)."""
    if not isinstance(raw, Mapping):
        raise InvalidValue(name, raw, 'weekdays and their periods, {"mon": [["09:00", "18:00"]]}')
    hours: Hours = {}
    for key, periods in raw.items():
        if key not in WEEKDAYS:
            raise InvalidValue(name, key, f"weekdays are {', '.join(WEEKDAYS)}")
        field = f"{name}.{key}"
        parsed: list[tuple[time, time]] = []
        for period in periods or ():
            if not isinstance(period, Sequence) or isinstance(period, str) or len(period) != 2:
                raise InvalidValue(field, period, "each period is [opens, closes]")
            opens, closes = _clock(field, period[0]), _clock(field, period[1])
            if closes <= opens:
                raise InvalidValue(field, f"{opens:%H:%M}-{closes:%H:%M}", "closes after it opens")
            if parsed and opens < parsed[-1][1]:
                raise InvalidValue(field, f"{opens:%H:%M}", "periods in order, not overlapping")
            parsed.append((opens, closes))
        hours[key] = parsed
    return {day: hours.get(day, []) for day in WEEKDAYS}


def hours_as_json(hours: Hours) -> dict[str, list[list[str]]]:
    """``hours`` as stored: ``{"mon": [["09:00", "18:00"]], ...}``."""
    return {day: [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in hours.get(day, [])] for day in WEEKDAYS}


def hours_reason(hours: Hours, start_local: datetime, end_local: datetime) -> str | None:
    """Why ``start_local``-``end_local`` (the clinic's wall clock) is outside opening hours,
    or None when one opening period holds it whole."""
    day = start_local.date()
    periods = hours.get(WEEKDAYS[day.weekday()], [])
    if not periods:
        return f"the clinic is closed on {start_local:%A}s"
    for opens, closes in periods:
        first = datetime.combine(day, opens, start_local.tzinfo)
        last = datetime.combine(day, closes, start_local.tzinfo)
        if first <= start_local and end_local <= last:
            return None
    spans = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in periods)
    return f"outside opening hours ({start_local:%A} {spans})"


def working_hours_text(hours: Hours) -> str:
    """``hours`` for people: "Mon 09:00-13:00, 14:00-18:00; Wed 09:00-13:00" (or "no days")."""
    days = [
        f"{day.title()} " + ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in periods)
        for day, periods in hours.items()
        if periods
    ]
    return "; ".join(days) or "no days"


def working_reason(
    hours: Hours, start_local: datetime, end_local: datetime, who: str
) -> str | None:
    """Why ``who`` cannot be booked ``start_local``-``end_local`` under their working hours
    ``hours``, or None when one working period holds it whole."""
    if hours_reason(hours, start_local, end_local) is None:
        return None
    periods = hours.get(WEEKDAYS[start_local.weekday()], [])
    if not periods:
        return f"{who} does not work on {start_local:%A}s"
    spans = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in periods)
    return f"{who} works {start_local:%A} {spans} only"


@dataclass(frozen=True, slots=True)
class ClosureDays:
    """Days the clinic is closed, inclusive, and why."""

    first_day: date
    last_day: date
    reason: str


def closure_reason(closures: Iterable[ClosureDays], day: date) -> str | None:
    """Why the clinic is closed on ``day``, or None."""
    for closure in closures:
        if closure.first_day <= day <= closure.last_day:
            return f"the clinic is closed on {day.isoformat()} ({closure.reason})"
    return None


def overlaps(start_a: datetime, clear_a: datetime, start_b: datetime, clear_b: datetime) -> bool:
    """Whether two held spans ``[start, clear)`` overlap."""
    return start_a < clear_b and start_b < clear_a


def parse_steps(raw: Any) -> list[dict[str, Any]]:
    """A service's manual steps, in order: ``[{"name", "minutes", "kind"}]``; at most one
    ``microcurrent`` step (the protocol). Raises `InvalidValue` naming the step."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidValue("steps", raw, "a list of {name, minutes, kind}")
    steps: list[dict[str, Any]] = []
    for i, step in enumerate(raw):
        field = f"steps[{i}]"
        if not isinstance(step, Mapping):
            raise InvalidValue(field, step, "each step is {name, minutes, kind}")
        name = str(step.get("name", "")).strip()
        if not name or len(name) > 120:
            raise InvalidValue(f"{field}.name", step.get("name"), "1-120 characters")
        minutes = step.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise InvalidValue(f"{field}.minutes", minutes, "a whole number of minutes")
        if not 0 <= minutes <= MAX_STEP_MINUTES:
            raise InvalidValue(f"{field}.minutes", minutes, f"0-{MAX_STEP_MINUTES}")
        kind = step.get("kind")
        if kind not in STEP_KINDS:
            raise InvalidValue(f"{field}.kind", kind, f"one of {', '.join(STEP_KINDS)}")
        steps.append({"name": name, "minutes": minutes, "kind": kind})
    if sum(1 for s in steps if s["kind"] == "microcurrent") > 1:
        raise InvalidValue("steps", "microcurrent", "at most one microcurrent step")
    return steps


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of the clinic's wall-clock time ``local`` (naive, or aware in any zone: then
    it is that instant). A wall time the clocks skip (spring forward) is `InvalidValue`; one
    they pass twice (fall back) is the first."""
    if not FIRST_YEAR <= local.year <= LAST_YEAR:
        raise InvalidValue("start", local.isoformat(), f"a time in {FIRST_YEAR}-{LAST_YEAR}")
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    placed = local.replace(tzinfo=zone, fold=0)
    if placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise InvalidValue("start", local.isoformat(), f"a time that exists in {zone.key}")
    return placed.astimezone(UTC)


def slot_end(start: datetime, minutes: int) -> datetime:
    """``minutes`` after ``start``."""
    return start + timedelta(minutes=minutes)
