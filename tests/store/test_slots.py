"""Free slots from the store, on SQLite and PostgreSQL: for random books, a start is offered
with a practitioner exactly when the book's one rule (`check_slot`) takes it in some room for a
client with nothing booked, and the room offered is one it takes; working hours are that rule's
too, and bad asks name their field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from microamp.clinic.booking import GRID_MINUTES
from microamp.errors import Conflict, InvalidValue
from microamp.store import Store
from microamp.store.book import book_appointment, check_slot, set_state
from microamp.store.book_setup import get_service, get_settings
from microamp.store.crud import create_client, create_user
from microamp.store.models import Appointment
from microamp.store.slots import MAX_DAYS, free_slots_between
from microamp.store.staff import set_working_hours
from support.clinic_book import MONDAY, Clinic, seed_clinic

LISBON = ZoneInfo("Europe/Lisbon")
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
# 08:30 to 18:00 on the 15-minute grid, some starts outside the hours on purpose
SLOT = st.integers(0, 38)
BOOKINGS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 1), SLOT, st.booleans(),
              st.sampled_from(["booked", "confirmed", "checked_in", "cancelled", "no_show"])),
    # client, room, practitioner, start, the facial (or the express), then its state
    max_size=10,
)  # fmt: skip
WORKING = st.one_of(
    st.none(),
    st.tuples(st.integers(36, 60), st.integers(2, 20)).map(
        lambda a: {"mon": [[_clock(a[0]), _clock(min(a[0] + a[1], 95))]]}
    ),
)


def _clock(quarter: int) -> str:
    return f"{quarter // 4:02d}:{15 * (quarter % 4):02d}"


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


@pytest.fixture
def newcomer(store: Store, clinic: Clinic) -> int:
    """A client with nothing booked: what a slot is checked for."""
    with store.transaction() as session:
        return create_client(session, full_name="Eva Nova", date_of_birth=date(1990, 1, 1)).id


def _wall(slot: int) -> datetime:
    return datetime.combine(MONDAY, time(8, 30)) + timedelta(minutes=GRID_MINUTES * slot)


def _book(session: Session, clinic: Clinic, booking: tuple) -> None:
    client, room, who, slot, facial, state = booking
    try:
        visit = book_appointment(
            session, client_id=clinic.clients[client],
            service_id=clinic.facial if facial else clinic.short, room_id=clinic.rooms[room],
            practitioner_id=clinic.practitioners[who], start=_wall(slot),
        )  # fmt: skip
    except Conflict:
        return
    if state != "booked":
        set_state(session, appointment_id=visit.id, state=state)


def _taken(session: Session, *, service_id: int, start: datetime, room: int, who: int,
           client: int) -> bool:  # fmt: skip
    """Whether the book's one rule takes the slot."""
    service = get_service(session, service_id=service_id)
    end = start + timedelta(minutes=service.duration_min)
    try:
        check_slot(
            session, settings=get_settings(session), starts_at=start, ends_at=end,
            clear_at=end + timedelta(minutes=service.buffer_min), room_id=room,
            practitioner_id=who, client_id=client,
        )  # fmt: skip
    except Conflict:
        return False
    return True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bookings=BOOKINGS, ana=WORKING, rui=WORKING, facial=st.booleans())
def test_a_slot_is_offered_exactly_when_the_book_takes_it(
    store: Store, clinic: Clinic, newcomer: int, bookings: list[tuple],
    ana: dict | None, rui: dict | None, facial: bool,
) -> None:  # fmt: skip
    service_id = clinic.facial if facial else clinic.short
    with store.transaction() as session:
        session.execute(delete(Appointment))
        for who, hours in zip(clinic.practitioners, (ana, rui), strict=True):
            set_working_hours(session, user_id=who, hours=hours)
        for booking in bookings:
            _book(session, clinic, booking)
    with store.transaction() as session:
        offered = free_slots_between(
            session, service_id=service_id, first=MONDAY, last=MONDAY, now=LONG_AGO
        ).get(MONDAY, [])
        pairs = {(s.start, s.practitioner_id) for s in offered}
        assert len(pairs) == len(offered), "a start is offered once per practitioner"
        for slot in offered:
            assert _taken(session, service_id=service_id, start=slot.start, room=slot.room_id,
                          who=slot.practitioner_id, client=newcomer)  # fmt: skip
        for slot_index in range(39):
            start = _wall(slot_index).replace(tzinfo=LISBON).astimezone(UTC)
            for who in clinic.practitioners:
                takes = any(
                    _taken(
                        session,
                        service_id=service_id,
                        start=start,
                        room=room,
                        who=who,
                        client=newcomer,
                    )  # fmt: skip
                    for room in clinic.rooms
                )
                assert takes == ((start, who) in pairs), (f"{start:%H:%M}", who)


def test_working_hours_are_the_books_rule_too(store: Store, clinic: Clinic) -> None:
    ana, rui = clinic.practitioners
    with store.transaction() as session:
        set_working_hours(session, user_id=ana, hours={"mon": [["09:00", "13:00"]]})
        slots = free_slots_between(session, service_id=clinic.short, first=MONDAY,
                                   last=MONDAY + timedelta(days=1), now=LONG_AGO)  # fmt: skip
        monday = slots[MONDAY]
        assert max(s.start for s in monday if s.practitioner_id == ana).astimezone(
            LISBON
        ).time() == time(12, 30)
        assert max(s.start for s in monday if s.practitioner_id == rui).astimezone(
            LISBON
        ).time() == time(17, 30)
        assert {s.practitioner_id for s in slots[MONDAY + timedelta(days=1)]} == {rui}
        with pytest.raises(Conflict) as refused:
            book_appointment(session, client_id=clinic.clients[0], service_id=clinic.short,
                             room_id=clinic.rooms[0], practitioner_id=ana,
                             start=datetime.combine(MONDAY, time(12, 45)))  # fmt: skip
        assert refused.value.kind == "practitioner"
        assert refused.value.reason == "Ana works Monday 09:00-13:00 only"
        with pytest.raises(Conflict) as tuesday:
            book_appointment(session, client_id=clinic.clients[0], service_id=clinic.short,
                             room_id=clinic.rooms[0], practitioner_id=ana,
                             start=datetime.combine(MONDAY + timedelta(days=1), time(10)))  # fmt: skip
        assert tuesday.value.reason == "Ana does not work on Tuesdays"
        set_working_hours(session, user_id=ana, hours=None)
        assert book_appointment(session, client_id=clinic.clients[0], service_id=clinic.short,
                                room_id=clinic.rooms[0], practitioner_id=ana,
                                start=datetime.combine(MONDAY, time(12, 45))).id  # fmt: skip


def test_slots_skip_closures_the_past_and_the_asked_practitioners_others(
    store: Store, clinic: Clinic
) -> None:
    ana, rui = clinic.practitioners
    christmas_eve = date(2026, 12, 24)
    with store.transaction() as session:
        slots = free_slots_between(session, service_id=clinic.facial, first=christmas_eve,
                                   last=christmas_eve, now=LONG_AGO)  # fmt: skip
        assert slots == {}
        noon = datetime.combine(MONDAY, time(12), LISBON)
        today = free_slots_between(session, service_id=clinic.facial, first=MONDAY, last=MONDAY,
                                   now=noon, practitioner_id=rui)[MONDAY]  # fmt: skip
        assert {s.practitioner_id for s in today} == {rui}
        assert min(s.start for s in today) == noon
        # the facial (60 min) ends by 18:00: its last start is 17:00
        assert max(s.start for s in today).astimezone(LISBON).time() == time(17)


@pytest.mark.parametrize(
    ("ask", "field", "value", "rule"),
    [
        ({"service_id": 9999}, "service_id", 9999, "an active service"),
        ({"practitioner_id": 9999}, "practitioner_id", 9999, "an active practitioner or owner"),
        ({"last": MONDAY - timedelta(days=1)}, "days", -1, "the last day on or after the first"),
        ({"last": MONDAY + timedelta(days=MAX_DAYS)}, "days", MAX_DAYS + 1,
         f"at most {MAX_DAYS} days at once"),
    ],
)  # fmt: skip
def test_a_bad_ask_names_its_field_value_and_rule(
    store: Store, clinic: Clinic, ask: dict, field: str, value: object, rule: str
) -> None:
    with store.transaction() as session, pytest.raises(InvalidValue) as bad:
        free_slots_between(session, **({"service_id": clinic.short, "first": MONDAY,
                                          "last": MONDAY, "now": LONG_AGO} | ask))  # fmt: skip
    assert (bad.value.field, bad.value.value, bad.value.rule) == (field, value, rule)


def test_working_hours_are_refused_for_reception_and_read_strictly(
    store: Store, clinic: Clinic
) -> None:
    with store.transaction() as session:
        with pytest.raises(InvalidValue) as badly:
            set_working_hours(session, user_id=clinic.practitioners[0],
                              hours={"mon": [["13:00", "09:00"]]})  # fmt: skip
        assert badly.value.field == "working_hours.mon"
        with pytest.raises(InvalidValue) as weekday:
            set_working_hours(session, user_id=clinic.practitioners[0], hours={"monday": []})
        assert (weekday.value.field, weekday.value.value) == ("working_hours", "monday")
        desk = create_user(session, email="desk@example.org", display_name="Desk",
                           role="reception")  # fmt: skip
        with pytest.raises(InvalidValue) as reception:
            set_working_hours(session, user_id=desk.id, hours={"mon": [["09:00", "13:00"]]})
        assert (reception.value.field, reception.value.value) == ("working_hours", "reception")
