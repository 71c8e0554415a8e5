"""A course plan on the book: its sessions given times, and rebooked when a visit moves.

Every time goes through `microamp.store.book.schedule_appointment` / `move_appointment`, so
the book's one rule holds. A session whose day does not fit (a closure, hours, a taken slot)
goes to the next of the plan's weekdays that fits, and the sessions after it move by as many
days, so the course keeps its spacing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import WEEKDAYS, clinic_zone
from microamp.errors import Conflict, InvalidValue
from microamp.store.book import (
    MOVABLE_STATES,
    get_appointment,
    move_appointment,
    schedule_appointment,
)
from microamp.store.book_setup import get_settings
from microamp.store.crud import get_or_404
from microamp.store.models import Appointment, CoursePlan

__all__ = ["SEARCH_DAYS", "book_plan", "rebook_from"]

# how far a session may slip to find a day that fits
SEARCH_DAYS = 28


def _allowed(plan: CoursePlan, day: date) -> bool:
    days = set(plan.weekdays or ())
    return not days or WEEKDAYS[day.weekday()] in days


def _first_fit(plan: CoursePlan, wanted: date, attempt: Callable[[date], None]) -> date:
    """The first day from ``wanted`` on one of the plan's weekdays on which ``attempt(day)``
    does not raise `Conflict`; the last refusal if none within `SEARCH_DAYS`."""
    refusal: Conflict | None = None
    for offset in range(SEARCH_DAYS + 1):
        day = wanted + timedelta(days=offset)
        if offset and not _allowed(plan, day):
            continue
        try:
            attempt(day)
            return day
        except Conflict as exc:
            refusal = exc
    assert refusal is not None
    raise Conflict(refusal.kind, f"no day within {SEARCH_DAYS} of {wanted}: {refusal.reason}")


def book_plan(
    session: Session,
    *,
    plan_id: int,
    service_id: int,
    room_id: int,
    practitioner_id: int,
    at: time,
    booked_by_id: int | None = None,
) -> list[Appointment]:
    """Give every booked session of the plan without a time the time ``at`` (the clinic's
    wall clock) on its day, or on the next day that fits; later sessions keep their spacing.
    Returns the sessions timed, in order. Raises `Conflict` when one finds no day."""
    plan = get_or_404(session, CoursePlan, plan_id)
    if at.second or at.microsecond or at.tzinfo is not None:
        raise InvalidValue("at", at.isoformat(), "a wall-clock time in whole minutes")
    shift = timedelta(0)
    timed: list[Appointment] = []
    for visit in plan.appointments:
        if visit.starts_at is not None or visit.state not in MOVABLE_STATES:
            continue

        def attempt(day: date, visit: Appointment = visit) -> None:
            schedule_appointment(session, appointment_id=visit.id, service_id=service_id,
                                 room_id=room_id, practitioner_id=practitioner_id,
                                 start=datetime.combine(day, at), booked_by_id=booked_by_id)  # fmt: skip

        wanted = visit.on_date + shift
        day = _first_fit(plan, wanted, attempt)
        shift += day - wanted
        timed.append(visit)
    return timed


def rebook_from(session: Session, *, appointment_id: int, start: datetime) -> list[Appointment]:
    """Move a plan's visit to ``start`` (the clinic's wall clock) and every later booked visit
    of its plan by as many days, each at its own time of day (or the next day that fits).
    Returns the visits moved, this one first."""
    visit = get_appointment(session, appointment_id=appointment_id)
    if visit.plan_id is None or visit.starts_at is None:
        raise InvalidValue("appointment_id", appointment_id, "a timed visit of a course plan")
    plan = get_or_404(session, CoursePlan, visit.plan_id)
    zone = clinic_zone(get_settings(session).time_zone)
    before = visit.starts_at.astimezone(zone).date()
    move_appointment(session, appointment_id=visit.id, start=start)
    shift = visit.on_date - before
    moved = [visit]
    later = session.scalars(
        select(Appointment)
        .where(
            Appointment.plan_id == plan.id,
            Appointment.starts_at.is_not(None),
            Appointment.id != visit.id,
            Appointment.state.in_(MOVABLE_STATES),
            Appointment.number > (visit.number or 0),
        )
        .order_by(Appointment.number)
    )
    for other in list(later):
        assert other.starts_at is not None
        local = other.starts_at.astimezone(zone).replace(tzinfo=None)
        clock_time = local.time()

        def attempt(day: date, other: Appointment = other, clock: time = clock_time) -> None:
            move_appointment(session, appointment_id=other.id, start=datetime.combine(day, clock))

        wanted = local.date() + shift
        day = _first_fit(plan, wanted, attempt)
        shift += day - wanted
        moved.append(other)
    return moved
