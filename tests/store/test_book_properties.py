"""Property: whatever bookings and moves come in, in whatever order, and concurrently from
several connections, no two appointments hold a room or a practitioner at once (buffer
included). On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microamp.clinic.booking import ACTIVE_STATES
from microamp.errors import Conflict, InvalidValue
from microamp.store import Store
from microamp.store.book import book_appointment, move_appointment
from microamp.store.models import Appointment
from support.clinic_book import MONDAY, Clinic, seed_clinic

# starts on the 15-minute grid from 08:45 to 18:00 on two days: some outside hours on purpose
SLOTS = st.integers(min_value=0, max_value=37)
BOOKINGS = st.lists(
    st.tuples(
        st.integers(0, 2),  # client
        st.integers(0, 1),  # room
        st.integers(0, 1),  # practitioner
        SLOTS,
        st.integers(0, 1),  # day
        st.booleans(),  # the 60-minute facial with its buffer, or the 30-minute express
    ),
    min_size=1,
    max_size=14,
)
MOVES = st.lists(st.tuples(st.integers(0, 13), SLOTS, st.integers(0, 1)), max_size=5)


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


def _start(slot: int, day: int) -> datetime:
    first = datetime(MONDAY.year, MONDAY.month, MONDAY.day, 8, 45) + timedelta(days=day)
    return first + timedelta(minutes=15 * slot)


def _try_book(session: Session, clinic: Clinic, booking: tuple[int, ...]) -> Appointment | None:
    client, room, who, slot, day, facial = booking
    try:
        return book_appointment(
            session,
            client_id=clinic.clients[client],
            service_id=clinic.facial if facial else clinic.short,
            room_id=clinic.rooms[room],
            practitioner_id=clinic.practitioners[who],
            start=_start(slot, day),
        )
    except Conflict:
        return None


def _assert_no_double_holding(session: Session) -> None:
    held = list(
        session.scalars(
            select(Appointment).where(
                Appointment.state.in_(ACTIVE_STATES), Appointment.starts_at.is_not(None)
            )
        )
    )
    for a, b in combinations(held, 2):
        assert a.starts_at is not None and a.clear_at is not None
        assert b.starts_at is not None and b.clear_at is not None
        apart = a.clear_at <= b.starts_at or b.clear_at <= a.starts_at
        for column in ("room_id", "practitioner_id", "client_id"):
            if getattr(a, column) == getattr(b, column):
                assert apart, f"{column}: {a.id} and {b.id} overlap"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bookings=BOOKINGS, moves=MOVES)
def test_no_order_of_bookings_and_moves_double_books(
    store: Store, clinic: Clinic, bookings: list[tuple[int, ...]], moves: list[tuple[int, ...]]
) -> None:
    session = store.session()
    try:
        booked = [a for a in (_try_book(session, clinic, b) for b in bookings) if a is not None]
        for index, slot, day in moves:
            if booked:
                try:
                    move_appointment(
                        session,
                        appointment_id=booked[index % len(booked)].id,
                        start=_start(slot, day),
                    )
                except Conflict:
                    pass
        _assert_no_double_holding(session)
    finally:
        session.rollback()
        session.close()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bookings=BOOKINGS)
def test_bookings_made_at_once_on_several_connections_never_double_book(
    store: Store, clinic: Clinic, bookings: list[tuple[int, ...]]
) -> None:
    # every booking in its own thread, connection and transaction, released together
    barrier = threading.Barrier(len(bookings))
    errors: list[BaseException] = []

    def book(booking: tuple[int, ...]) -> None:
        try:
            barrier.wait(timeout=30)
            with store.transaction() as session:
                _try_book(session, clinic, booking)
        except (Conflict, InvalidValue):
            pass
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(b,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors, errors
        with store.session() as session:
            _assert_no_double_holding(session)
    finally:
        with store.transaction() as session:
            session.execute(delete(Appointment))
