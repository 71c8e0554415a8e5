"""Free slots: the starts on a day at which a service can be booked, each with a practitioner
and a room, without storage.

A start is offered exactly when the book's one rule (`microamp.store.book.check_slot`) would
take it for a client with nothing else booked: on the clinic's grid inside one opening period
(the service's end, not its buffer, before closing), not on a closure, inside the
practitioner's working hours, and the practitioner and a room free from the start until the
end plus the service's buffer, every held span (an appointment's start to its ``clear_at``)
counted. Starts are the clinic's wall clock on the grid, anchored at each period's opening as
the day view's grid is; a wall time the clocks skip is never offered, one they pass twice is
offered once (its first instant, as the book reads it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from microamp.clinic.booking import GRID_MINUTES, WEEKDAYS, Hours, hours_reason

__all__ = ["FreeSlot", "HeldSpans", "day_starts", "free_slots"]

Span = tuple[datetime, datetime]  # [start, clear), aware


@dataclass(frozen=True, slots=True)
class FreeSlot:
    """A start (aware, UTC) with a practitioner who is free then and a room that is."""

    start: datetime
    practitioner_id: int
    room_id: int


class HeldSpans:
    """One resource's held spans as a sorted union of disjoint ones, asked in O(log n) whether
    a span meets any of them (held spans may overlap one another: a union answers the same)."""

    __slots__ = ("_clears", "_starts")

    def __init__(self, spans: Iterable[Span]) -> None:
        starts: list[datetime] = []
        clears: list[datetime] = []
        for start, clear in sorted(spans):
            if starts and start <= clears[-1]:
                clears[-1] = max(clears[-1], clear)
            else:
                starts.append(start)
                clears.append(clear)
        self._starts, self._clears = starts, clears

    def free(self, start: datetime, clear: datetime) -> bool:
        """Whether ``[start, clear)`` meets none of the held spans."""
        # the first merged span that clears after ``start`` is the only one that can meet it
        i = bisect_right(self._clears, start)
        return i == len(self._starts) or clear <= self._starts[i]


def day_starts(
    day: date, hours: Hours, zone: ZoneInfo, *, grid_min: int = GRID_MINUTES
) -> list[datetime]:
    """The grid's starts (aware, UTC) in the day's opening periods, in order. Each wall time
    is taken once, at its first instant, so a wall time passed twice is one start."""
    starts: list[datetime] = []
    for opens, closes in hours.get(WEEKDAYS[day.weekday()], []):
        at = datetime.combine(day, opens)
        last = datetime.combine(day, closes)
        while at < last:
            instant = _instant(at, zone)
            if instant is not None:
                starts.append(instant)
            at += timedelta(minutes=grid_min)
    return starts


def _instant(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant of the naive wall time ``local``, or None where the clocks skip it."""
    placed = local.replace(tzinfo=zone, fold=0)
    instant = placed.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local:
        return None
    return instant


def _within(hours: Hours, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    start_local, end_local = start.astimezone(zone), end.astimezone(zone)
    if end_local.date() != start_local.date() and end_local.time() != time(0, 0):
        return False
    return hours_reason(hours, start_local, end_local) is None


def free_slots(
    *,
    day: date,
    zone: ZoneInfo,
    hours: Hours,
    closed: bool,
    duration_min: int,
    buffer_min: int,
    practitioners: Mapping[int, Hours | None],
    rooms: Sequence[int],
    held_by_practitioner: Mapping[int, HeldSpans],
    held_by_room: Mapping[int, HeldSpans],
    not_before: datetime,
    grid_min: int = GRID_MINUTES,
) -> list[FreeSlot]:
    """Every start on ``day`` at or after ``not_before`` with each practitioner free then (in
    id order; working hours None: the clinic's), and for each the first room, in ``rooms``
    order, that is free too. Nothing on a closed day."""
    if closed or not rooms:
        return []
    nobody = HeldSpans(())
    duration, buffer = timedelta(minutes=duration_min), timedelta(minutes=buffer_min)
    slots: list[FreeSlot] = []
    for start in day_starts(day, hours, zone, grid_min=grid_min):
        if start < not_before:
            continue
        end = start + duration
        clear = end + buffer
        if not _within(hours, start, end, zone):
            continue
        free_rooms = [r for r in rooms if held_by_room.get(r, nobody).free(start, clear)]
        if not free_rooms:
            continue
        for practitioner_id in sorted(practitioners):
            own = practitioners[practitioner_id]
            if own is not None and not _within(own, start, end, zone):
                continue
            if held_by_practitioner.get(practitioner_id, nobody).free(start, clear):
                slots.append(FreeSlot(start, practitioner_id, free_rooms[0]))
    return slots
