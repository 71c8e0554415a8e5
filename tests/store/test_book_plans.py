"""A course plan on the book: its sessions get times around closures and taken slots, on the
plan's weekdays, keeping their spacing; a moved visit moves the later ones with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from microamp.clinic.plans import plan_course
from microamp.errors import Conflict
from microamp.store import Store
from microamp.store.book import book_appointment
from microamp.store.book_plans import book_plan, rebook_from
from microamp.store.book_setup import add_closure, plan_closures
from microamp.store.planning import save_plan
from support.clinic_book import Clinic, seed_clinic


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


def _days(visits: list) -> list[date]:
    return [v.on_date for v in visits]


def test_a_plan_from_24_november_is_booked_around_the_holidays(
    store: Store, clinic: Clinic
) -> None:
    # planned before the closure was on file: 25 December and 1 January among its Fridays
    course = plan_course("weekly-series", start=date(2026, 11, 24), weekdays=(4,), months=3)
    assert date(2026, 12, 25) in [s.on_date for s in course.sessions]
    with store.transaction() as session:
        plan = save_plan(session, client_id=clinic.clients[0], plan=course)
        visits = book_plan(session, plan_id=plan.id, service_id=clinic.facial,
                           room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
                           at=time(10, 0))  # fmt: skip
        days = _days(visits)
        assert len(days) == len(course.sessions)
        assert all(not date(2026, 12, 24) <= d <= date(2027, 1, 1) for d in days)
        assert all(d.weekday() == 4 for d in days)  # the plan's Fridays only
        assert days[4] == date(2027, 1, 8)  # 25 Dec -> the first open Friday
        assert days[5] - days[4] == timedelta(days=7)  # the rest keep their spacing
        assert visits[0].starts_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_a_new_plan_skips_closures_on_file(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        closures = plan_closures(session, from_day=date(2026, 11, 24))
    course = plan_course("weekly-series", start=date(2026, 11, 24), weekdays=(4,), months=3,
                         closures=closures)  # fmt: skip
    days = [s.on_date for s in course.sessions]
    assert date(2026, 12, 25) not in days and date(2027, 1, 1) not in days


def test_a_taken_slot_pushes_a_session_to_the_next_plan_day(store: Store, clinic: Clinic) -> None:
    course = plan_course("weekly-series", start=date(2026, 12, 7), weekdays=(0, 2), months=1)
    with store.transaction() as session:
        book_appointment(session, client_id=clinic.clients[1], service_id=clinic.facial,
                         room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[1],
                         start=datetime(2026, 12, 7, 10, 0))  # fmt: skip
        plan = save_plan(session, client_id=clinic.clients[0], plan=course)
        visits = book_plan(session, plan_id=plan.id, service_id=clinic.facial,
                           room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
                           at=time(10, 0))  # fmt: skip
        assert visits[0].on_date == date(2026, 12, 9)  # Monday's room taken: Wednesday


def test_moving_a_visit_moves_the_later_ones_by_as_many_days(store: Store, clinic: Clinic) -> None:
    course = plan_course("weekly-series", start=date(2026, 11, 2), weekdays=(0,), months=2)
    with store.transaction() as session:
        plan = save_plan(session, client_id=clinic.clients[0], plan=course)
        visits = book_plan(session, plan_id=plan.id, service_id=clinic.facial,
                           room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
                           at=time(9, 0))  # fmt: skip
        before = _days(visits)
        moved = rebook_from(
            session, appointment_id=visits[1].id, start=datetime(2026, 11, 10, 15, 0)
        )
        assert moved[0].on_date == date(2026, 11, 10)
        assert _days(visits)[0] == before[0]
        assert date(2027, 1, 4) in before  # 28 Dec was closed: its visit went to 4 Jan
        # every later visit a day later, as the moved one: the spacing is kept
        assert [new - old for old, new in zip(before[2:], _days(visits)[2:], strict=True)] == [
            timedelta(days=1)
        ] * (len(before) - 2)
        assert all(not date(2026, 12, 24) <= d <= date(2027, 1, 1) for d in _days(visits))


def test_no_day_within_reach_is_a_conflict(store: Store, clinic: Clinic) -> None:
    course = plan_course("weekly-series", start=date(2026, 12, 7), weekdays=(0,), months=1)
    with store.transaction() as session:
        add_closure(session, first_day=date(2026, 12, 7), last_day=date(2027, 3, 1), reason="Works")
        plan = save_plan(session, client_id=clinic.clients[0], plan=course)
        with pytest.raises(Conflict, match="no day within"):
            book_plan(session, plan_id=plan.id, service_id=clinic.facial,
                      room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
                      at=time(9, 0))  # fmt: skip
