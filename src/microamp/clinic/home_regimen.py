"""The home regimen: which planned days were done or missed, the streak, adherence, and the
daily time a home profile allows.

The plan is a `CoursePlan` (the ``home-daily`` template: 5 days a week for 60 days, then 3 a
week; or the clinic's plan for this person). A planned day before ``today`` without a session
is missed; ``today`` is open until it ends. The streak counts the planned days done in a row,
back from the newest planned day that is not still open; a session on a day off is an extra
day (it counts for adherence's "done" only where it was planned, so doing more never hides
a missed day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from microamp.clinic.plans import CoursePlan, plan_course
from microamp.errors import InvalidValue

__all__ = [
    "DayStatus",
    "Regimen",
    "daily_time_refusal",
    "home_plan",
    "regimen",
]

DayKind = Literal["done", "missed", "due", "planned", "extra", "rest"]
HOME_PLAN_MONTHS = 6


@dataclass(frozen=True, slots=True)
class DayStatus:
    on: date
    kind: DayKind


@dataclass(frozen=True, slots=True)
class Regimen:
    """The regimen as of ``today``: ``adherence`` is done / planned days so far (0-1, None
    before the first planned day); ``next_day`` the next planned day from today on."""

    today: date
    streak: int
    best_streak: int
    planned_so_far: int
    done_so_far: int
    adherence: float | None
    next_day: date | None
    days: tuple[DayStatus, ...]

    def kind_of(self, day: date) -> DayKind:
        for status in self.days:
            if status.on == day:
                return status.kind
        return "rest"


def home_plan(start: date, months: int = HOME_PLAN_MONTHS) -> CoursePlan:
    """NuFACE's regimen from ``start``: 5 days a week for 60 days, then 3 a week."""
    return plan_course("home-daily", start=start, months=months)


def regimen(plan: CoursePlan, done_days: Iterable[date], today: date) -> Regimen:
    """The regimen of ``plan`` as of ``today`` given the days a session was done."""
    done = set(done_days)
    planned = sorted({s.on_date for s in plan.sessions})
    planned_set = set(planned)
    past = [d for d in planned if d < today or (d == today and d in done)]
    streak = best = run = 0
    for day in past:
        run = run + 1 if day in done else 0
        best = max(best, run)
    streak = run
    days = [DayStatus(d, _kind(d, d in planned_set, d in done, today))
            for d in sorted(planned_set | {d for d in done if d >= plan.start})]  # fmt: skip
    done_so_far = sum(1 for d in past if d in done)
    return Regimen(
        today=today,
        streak=streak,
        best_streak=best,
        planned_so_far=len(past),
        done_so_far=done_so_far,
        adherence=done_so_far / len(past) if past else None,
        next_day=next((d for d in planned if d >= today and d not in done), None),
        days=tuple(days),
    )


def _kind(day: date, planned: bool, done: bool, today: date) -> DayKind:
    if done:
        return "done" if planned else "extra"
    if day < today:
        return "missed"
    return "due" if day == today else "planned"


def month_days(first: date) -> list[date]:
    """Every day of the month ``first`` is in."""
    start = first.replace(day=1)
    days = []
    day = start
    while day.month == start.month:
        days.append(day)
        day += timedelta(days=1)
    return days


def daily_time_refusal(
    *, used_s: float, routine_s: float, max_daily_s: float, source: str
) -> InvalidValue | None:
    """Why a routine of ``routine_s`` may not start after ``used_s`` today, or None."""
    if routine_s <= 0:
        raise InvalidValue("routine_s", routine_s, "must be above 0")
    if used_s + routine_s <= max_daily_s:
        return None
    left = max(0.0, max_daily_s - used_s)
    return InvalidValue(
        "routine", f"{routine_s / 60:.1f} min",
        f"{used_s / 60:.1f} of today's {max_daily_s / 60:g} min are used, {left / 60:.1f} min "
        f"left [{source}]",
    )  # fmt: skip
