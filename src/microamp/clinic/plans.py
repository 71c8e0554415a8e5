"""Course plans: a template, a start date and the client's weekdays -> session dates.

Templates (DOMAIN.md "Courses of treatment"):

- ``clinic-initial``: twice a week for 6 weeks (12 sessions), then monthly maintenance
- ``weekly-series``: weekly for 12 sessions, then every 4 weeks
- ``intensive``: 3 a week for 4 weeks (12 sessions), then weekly
- ``home-daily``: 5 days a week for 60 days (43 sessions), then 3 a week

Every date falls on one of the chosen weekdays and never on a closure; clinic sessions are at
least 48 hours apart (two calendar days). When a rule removes a day, the session moves later:
the initial phase always has its full count. Maintenance runs until ``months`` after the start.
A progress check-in is prompted after the 5th session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from microamp.errors import InvalidValue

__all__ = [
    "CHECKIN_AFTER_SESSION",
    "TEMPLATES",
    "Closure",
    "CoursePlan",
    "Phase",
    "PlannedSession",
    "Template",
    "add_months",
    "parse_weekdays",
    "plan_course",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHECKIN_AFTER_SESSION = 5
MIN_CLINIC_GAP_DAYS = 2  # 48 hours between clinic sessions, on whole days
MAX_MONTHS = 36
# No allowed day this long after a due date means the weekdays and closures leave none.
_SEARCH_HORIZON_DAYS = 366

Closure = date | tuple[date, date]


@dataclass(frozen=True, slots=True)
class Phase:
    """A cadence: a quota per calendar week, or a fixed interval in days or months."""

    per_week: int | None = None
    every_days: int | None = None
    every_months: int | None = None


@dataclass(frozen=True, slots=True)
class Template:
    """A course template. ``clinic``: sessions in the clinic, so the 48-hour rule applies."""

    name: str
    description: str
    initial: Phase
    initial_sessions: int
    maintenance: Phase
    clinic: bool
    default_weekdays: tuple[int, ...]


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "clinic-initial",
            "twice a week for 6 weeks, then monthly maintenance",
            Phase(per_week=2),
            12,
            Phase(every_months=1),
            clinic=True,
            default_weekdays=(0, 3),
        ),
        Template(
            "weekly-series",
            "weekly for 12 sessions, then every 4 weeks",
            Phase(per_week=1),
            12,
            Phase(every_days=28),
            clinic=True,
            default_weekdays=(),
        ),
        Template(
            "intensive",
            "3 a week for 4 weeks, then weekly",
            Phase(per_week=3),
            12,
            Phase(every_days=7),
            clinic=True,
            default_weekdays=(0, 2, 4),
        ),
        Template(
            "home-daily",
            "5 days a week for 60 days, then 3 a week",
            Phase(per_week=5),
            round(60 / 7 * 5),
            Phase(per_week=3),
            clinic=False,
            default_weekdays=(0, 1, 2, 3, 4),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """One session of a plan. ``checkin``: prompt a progress check-in after this session."""

    number: int
    on_date: date
    phase: Literal["initial", "maintenance"]
    checkin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "date": self.on_date.isoformat(),
            "phase": self.phase,
            "checkin": self.checkin,
        }


@dataclass(frozen=True, slots=True)
class CoursePlan:
    """The dates of a course."""

    template: str
    start: date
    end: date
    weekdays: tuple[int, ...]
    months: int
    sessions: tuple[PlannedSession, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``microamp plan --json`` (without the cost)."""
        return {
            "template": self.template,
            "description": TEMPLATES[self.template].description,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "weekdays": [WEEKDAYS[d] for d in self.weekdays],
            "months": self.months,
            "progress_checkin_after_session": CHECKIN_AFTER_SESSION,
            "sessions": [s.to_dict() for s in self.sessions],
        }


def parse_weekdays(text: str) -> tuple[int, ...]:
    """``"mon,thu"`` -> ``(0, 3)``; `InvalidValue` naming ``weekdays`` otherwise."""
    days = []
    for part in text.split(","):
        name = part.strip().lower()[:3]
        if name not in WEEKDAYS:
            raise InvalidValue("weekdays", text, f"a comma-separated list of {', '.join(WEEKDAYS)}")
        days.append(WEEKDAYS.index(name))
    return tuple(sorted(set(days)))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def plan_course(
    template: str,
    *,
    start: date,
    weekdays: Sequence[int] = (),
    months: int = 6,
    closures: Iterable[Closure] = (),
) -> CoursePlan:
    """The dates of a course from ``template``, starting on or after ``start``.

    ``weekdays`` (0 = Monday) defaults to the template's, or to the start's weekday.
    ``closures`` are days or inclusive ``(first, last)`` ranges when the clinic is closed.
    Raises `InvalidValue` for an unknown template, bad months, or days that leave no date.
    """
    tpl = TEMPLATES.get(template)
    if tpl is None:
        raise InvalidValue("template", template, f"must be one of {', '.join(TEMPLATES)}")
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidValue("months", months, f"must be 1-{MAX_MONTHS}")
    if any(not 0 <= d <= 6 for d in weekdays):
        raise InvalidValue("weekdays", list(weekdays), "days are 0 (Monday) to 6 (Sunday)")
    days = tuple(sorted(set(weekdays))) or tpl.default_weekdays or (start.weekday(),)
    calendar = _Calendar(days, _closure_ranges(closures), tpl.clinic)
    dates = calendar.phase_dates(tpl.initial, after=[], earliest=start, count=tpl.initial_sessions)
    initial_count = len(dates)
    end = add_months(start, months)
    dates += calendar.phase_dates(tpl.maintenance, after=dates, earliest=start, until=end)
    sessions = tuple(
        PlannedSession(
            number=i + 1,
            on_date=d,
            phase="initial" if i < initial_count else "maintenance",
            checkin=i + 1 == CHECKIN_AFTER_SESSION,
        )
        for i, d in enumerate(dates)
    )
    return CoursePlan(template, start, end, days, months, sessions)


def _closure_ranges(closures: Iterable[Closure]) -> tuple[tuple[date, date], ...]:
    ranges = []
    for closure in closures:
        first, last = closure if isinstance(closure, tuple) else (closure, closure)
        if last < first:
            raise InvalidValue(
                "closures", f"{first}..{last}", "a range must end on or after its start"
            )
        ranges.append((first, last))
    return tuple(ranges)


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Which days a session may fall on."""

    weekdays: tuple[int, ...]
    closures: tuple[tuple[date, date], ...]
    clinic: bool

    def allowed(self, day: date, previous: date | None) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        if any(first <= day <= last for first, last in self.closures):
            return False
        gap = MIN_CLINIC_GAP_DAYS if self.clinic else 1
        return previous is None or (day - previous).days >= gap

    def first_allowed(self, due: date, previous: date | None) -> date:
        for offset in range(_SEARCH_HORIZON_DAYS):
            day = due + timedelta(days=offset)
            if self.allowed(day, previous):
                return day
        raise InvalidValue(
            "closures",
            due.isoformat(),
            "with these weekdays and closures no day is left for a session",
        )

    def phase_dates(
        self,
        phase: Phase,
        *,
        after: list[date],
        earliest: date,
        count: int | None = None,
        until: date | None = None,
    ) -> list[date]:
        """Dates of one phase after the dates ``after``: ``count`` of them, or every one
        before ``until``. A week's quota counts the earlier phase's sessions too."""
        placed = list(after)
        dates: list[date] = []
        while count is None or len(dates) < count:
            day = self._next(phase, placed[-1] if placed else None, earliest, placed)
            if until is not None and day >= until:
                break
            dates.append(day)
            placed.append(day)
        return dates

    def _next(
        self, phase: Phase, previous: date | None, earliest: date, placed: list[date]
    ) -> date:
        if previous is None:
            return self.first_allowed(earliest, None)
        if phase.every_days is not None:
            return self.first_allowed(previous + timedelta(days=phase.every_days), previous)
        if phase.every_months is not None:
            return self.first_allowed(add_months(previous, phase.every_months), previous)
        quota = phase.per_week or 1
        day = previous + timedelta(days=1)
        while _same_week_count(day, placed) >= quota:
            day = _next_monday(day)
        while True:
            day = self.first_allowed(day, previous)
            if _same_week_count(day, placed) < quota:
                return day
            day = _next_monday(day)


def _same_week_count(day: date, placed: list[date]) -> int:
    week = day.isocalendar()[:2]
    return sum(1 for d in placed[-7:] if d.isocalendar()[:2] == week)


def _next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())
