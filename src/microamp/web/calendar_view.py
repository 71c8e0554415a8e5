"""A course plan as month grids: each appointment day marked by phase, check-ins ringed."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

__all__ = ["Month", "months_of"]

_CAL = calendar.Calendar(firstweekday=0)


@dataclass(frozen=True, slots=True)
class Day:
    number: int  # 0: a blank cell outside the month
    css: str
    label: str


@dataclass(frozen=True, slots=True)
class Month:
    title: str
    weeks: list[list[Day]]


def months_of(
    appointments: Iterable[tuple[date, int, str, bool]], *, today: date, limit: int = 6
) -> tuple[list[Month], int]:
    """Month grids for ``(day, number, phase, checkin)`` appointments, at most ``limit``
    months from the first; also how many later months were left out."""
    by_day = {day: (number, phase, checkin) for day, number, phase, checkin in appointments}
    if not by_day:
        return [], 0
    first, last = min(by_day), max(by_day)
    spans = [(y, m) for y in range(first.year, last.year + 1) for m in range(1, 13)]
    spans = [
        (y, m) for y, m in spans if (first.year, first.month) <= (y, m) <= (last.year, last.month)
    ]
    months = [_month(y, m, by_day, today) for y, m in spans[:limit]]
    return months, max(0, len(spans) - limit)


def _month(year: int, month: int, by_day: dict[date, tuple[int, str, bool]], today: date) -> Month:
    weeks = []
    for week in _CAL.monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(Day(0, "", ""))
                continue
            css, label = [], day.strftime("%A %d %B %Y")
            if day in by_day:
                number, phase, checkin = by_day[day]
                css.append(phase)
                label += f": session {number} ({phase})"
                if checkin:
                    css.append("checkin")
                    label += ", progress check-in"
            if day == today:
                css.append("today")
            row.append(Day(day.day, " ".join(css), label))
        weeks.append(row)
    return Month(date(year, month, 1).strftime("%B %Y"), weeks)
