"""A merge never leaves a client booked twice at once, on SQLite and PostgreSQL: two live
appointments of the pair that overlap refuse the merge, naming both, until one is cancelled or
moved; appointments that do not overlap move with the rest."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.errors import Conflict
from microamp.store import Store
from microamp.store.book import book_appointment, set_state
from microamp.store.client_records import merge_clients
from microamp.store.models import Appointment, Client
from support.clinic_book import MONDAY, Clinic, seed_clinic


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


def _book(session: Session, clinic: Clinic, *, client: int, room: int, hour: int,
          minute: int = 0, day: date = MONDAY) -> Appointment:  # fmt: skip
    # each in its own room with its own practitioner: only the client rule can object
    return book_appointment(
        session,
        client_id=clinic.clients[client],
        service_id=clinic.facial,
        room_id=clinic.rooms[room],
        practitioner_id=clinic.practitioners[room],
        start=datetime(day.year, day.month, day.day, hour, minute),
    )


def test_overlapping_visits_refuse_the_merge_naming_both(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        hers = _book(session, clinic, client=0, room=0, hour=10)
        theirs = _book(session, clinic, client=1, room=1, hour=10, minute=30)
    with store.transaction() as session, pytest.raises(Conflict) as refused:
        merge_clients(session, keep_id=clinic.clients[0], duplicate_id=clinic.clients[1])
    assert refused.value.kind == "client"
    assert f"appointment {hers.id}" in refused.value.reason
    assert f"appointment {theirs.id}" in refused.value.reason
    assert "10:00-11:00" in refused.value.reason and "10:30-11:30" in refused.value.reason
    with store.session() as session:  # nothing moved
        assert session.get(Appointment, theirs.id).client_id == clinic.clients[1]  # type: ignore[union-attr]
        assert session.get(Client, clinic.clients[1]).merged_into_id is None  # type: ignore[union-attr]


def test_the_buffer_counts_as_it_does_when_booking(store: Store, clinic: Clinic) -> None:
    # the facial is 60 minutes with a 15-minute buffer: 11:00 is inside her 10:00 visit's clear time
    with store.transaction() as session:
        _book(session, clinic, client=0, room=0, hour=10)
        _book(session, clinic, client=1, room=1, hour=11)
    with store.transaction() as session, pytest.raises(Conflict):
        merge_clients(session, keep_id=clinic.clients[0], duplicate_id=clinic.clients[1])


def test_a_cancelled_or_separate_visit_lets_the_merge_move_it(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        _book(session, clinic, client=0, room=0, hour=10)
        clash = _book(session, clinic, client=1, room=1, hour=10, minute=30)
        later = _book(session, clinic, client=1, room=1, hour=14)
        set_state(session, appointment_id=clash.id, state="cancelled")
    with store.transaction() as session:
        moved = merge_clients(session, keep_id=clinic.clients[0], duplicate_id=clinic.clients[1])
    assert moved["appointments"] == 2
    with store.session() as session:
        owners = set(session.scalars(select(Appointment.client_id).where(
            Appointment.id.in_([clash.id, later.id]))))  # fmt: skip
    assert owners == {clinic.clients[0]}
