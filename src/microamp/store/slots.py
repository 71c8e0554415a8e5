"""Free slots of a service from the book: what online booking offers, read in three queries a
range (the people, the rooms, the held spans) and worked out by `microamp.clinic.slots`.

Who can give a service: every active owner and practitioner (or the one asked for). Where: any
active room, as the book itself takes (a room is not tied to services). A slot is offered here
exactly when the book's one rule (`microamp.store.book.check_slot`) takes it for a client with
nothing else booked, which a test holds for random books on both databases.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from microamp.clinic.booking import (
    ACTIVE_STATES,
    Hours,
    clinic_zone,
    closure_reason,
)
from microamp.clinic.slots import FreeSlot, HeldSpans, free_slots
from microamp.errors import InvalidValue
from microamp.store.book import CLINICAL_ROLES, active_service, working_hours
from microamp.store.book_models import Room
from microamp.store.book_setup import clinic_hours, closure_days, get_settings
from microamp.store.models import Appointment, User

__all__ = [
    "MAX_DAYS",
    "bookable_people",
    "bookable_rooms",
    "free_slots_between",
    "service_practitioners",
]

MAX_DAYS = 62  # two months of slots in one answer at most


def bookable_rooms(session: Session) -> list[int]:
    """The rooms a service can be given in, by id: every active one."""
    return list(session.scalars(select(Room.id).where(Room.active.is_(True)).order_by(Room.id)))


def bookable_people(session: Session, *, practitioner_id: int | None = None) -> list[User]:
    """Who can be booked, by name: every active owner and practitioner, or the one asked for
    (`InvalidValue` naming ``practitioner_id`` if that one cannot be)."""
    query = (
        select(User)
        .where(User.active.is_(True), User.role.in_(CLINICAL_ROLES))
        .order_by(User.display_name)
    )
    if practitioner_id is not None:
        query = query.where(User.id == practitioner_id)
    people = list(session.scalars(query))
    if practitioner_id is not None and not people:
        raise InvalidValue("practitioner_id", practitioner_id, "an active practitioner or owner")
    return people


def service_practitioners(
    session: Session, *, practitioner_id: int | None = None
) -> dict[int, Hours | None]:
    """Who can be booked, each with their working hours (None: the clinic's)."""
    people = bookable_people(session, practitioner_id=practitioner_id)
    return {user.id: working_hours(user) for user in people}


def _held(
    session: Session, *, lo: datetime, hi: datetime, rooms: list[int], people: list[int]
) -> tuple[dict[int, HeldSpans], dict[int, HeldSpans]]:
    """Each room's and each practitioner's held spans that meet ``[lo, hi)``."""
    by_room: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    by_person: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = session.execute(
        select(
            Appointment.room_id,
            Appointment.practitioner_id,
            Appointment.starts_at,
            Appointment.clear_at,
        ).where(
            Appointment.state.in_(ACTIVE_STATES),
            Appointment.starts_at < hi,
            Appointment.clear_at > lo,
            or_(Appointment.room_id.in_(rooms), Appointment.practitioner_id.in_(people)),
        )
    )
    for room_id, practitioner_id, starts_at, clear_at in rows:
        # the query's comparisons leave out an unbooked course-plan visit (no times)
        assert starts_at is not None and clear_at is not None
        span = (starts_at, clear_at)
        if room_id is not None:
            by_room[room_id].append(span)
        if practitioner_id is not None:
            by_person[practitioner_id].append(span)
    return (
        {k: HeldSpans(v) for k, v in by_room.items()},
        {k: HeldSpans(v) for k, v in by_person.items()},
    )


def _day_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidValue("days", (last - first).days, "the last day on or after the first")
    if (last - first).days >= MAX_DAYS:
        raise InvalidValue("days", (last - first).days + 1, f"at most {MAX_DAYS} days at once")


def free_slots_between(
    session: Session,
    *,
    service_id: int,
    first: date,
    last: date,
    now: datetime,
    practitioner_id: int | None = None,
) -> dict[date, list[FreeSlot]]:
    """Every free slot of the service from ``first`` to ``last`` (the clinic's days,
    inclusive), starting no earlier than ``now``, by day; a day with none is left out.
    `InvalidValue` names ``service_id``, ``practitioner_id`` or ``days``."""
    _day_range(first, last)
    service = active_service(session, service_id)
    settings = get_settings(session)
    zone = clinic_zone(settings.time_zone)
    hours = clinic_hours(settings)
    people = service_practitioners(session, practitioner_id=practitioner_id)
    rooms = bookable_rooms(session)
    closures = closure_days(session, first=first, last=last)
    # a slot's held span ends before the next day's buffer is over: a day of margin covers it
    lo = datetime.combine(first, time(0, 0), zone)
    hi = datetime.combine(last + timedelta(days=2), time(0, 0), zone)
    held_by_room, held_by_person = _held(session, lo=lo, hi=hi, rooms=rooms, people=list(people))
    slots: dict[date, list[FreeSlot]] = {}
    day = first
    while day <= last:
        found = free_slots(
            day=day,
            zone=zone,
            hours=hours,
            closed=closure_reason(closures, day) is not None,
            duration_min=service.duration_min,
            buffer_min=service.buffer_min,
            practitioners=people,
            rooms=rooms,
            held_by_practitioner=held_by_person,
            held_by_room=held_by_room,
            not_before=now,
        )
        if found:
            slots[day] = found
        day += timedelta(days=1)
    return slots
