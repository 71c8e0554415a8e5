"""The appointment book's rules in the store, on SQLite and PostgreSQL: hours, closures,
overlaps (buffer included), moves, states, the session link and the completion hook."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from microamp.errors import Conflict, InvalidValue
from microamp.store import Store
from microamp.store.book import (
    add_completion_hook,
    appointments_between,
    book_appointment,
    book_series,
    complete_for_session,
    link_session,
    move_appointment,
    set_state,
)
from microamp.store.book_setup import get_settings, save_settings, update_service
from microamp.store.models import Appointment
from microamp.store.recording import SessionRecorder
from support.clinic_book import MONDAY, Clinic, seed_clinic


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


def _at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def _book(session: Session, clinic: Clinic, *, client: int = 0, room: int = 0, who: int = 0,
          start: datetime, service: int | None = None) -> Appointment:  # fmt: skip
    return book_appointment(
        session,
        client_id=clinic.clients[client],
        service_id=clinic.facial if service is None else service,
        room_id=clinic.rooms[room],
        practitioner_id=clinic.practitioners[who],
        start=start,
    )


def test_a_booking_is_stored_in_utc_and_dated_in_the_clinic_zone(
    store: Store, clinic: Clinic
) -> None:
    with store.transaction() as session:
        save_settings(session, time_zone="Asia/Tokyo",
                      opening_hours={"mon": [["08:00", "20:00"]]})  # fmt: skip
        visit = _book(session, clinic, start=_at(8, 30))
        assert visit.starts_at == datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
        assert visit.on_date == MONDAY
        assert visit.ends_at == visit.starts_at + timedelta(minutes=60)
        assert visit.clear_at == visit.ends_at + timedelta(minutes=15)
        assert visit.state == "booked"


def test_outside_opening_hours_is_refused_with_the_hours(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        with pytest.raises(Conflict) as late:
            _book(session, clinic, start=_at(17, 30))
        assert late.value.kind == "hours"
        assert "09:00-18:00" in late.value.reason
        with pytest.raises(Conflict) as sunday:
            _book(session, clinic, start=_at(10, day=MONDAY - timedelta(days=1)))
        assert "closed on Sundays" in sunday.value.reason
        assert _book(session, clinic, start=_at(17)).id  # ends at 18:00 exactly


def test_a_closure_is_refused_with_its_reason(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session, pytest.raises(Conflict) as closed:
        _book(session, clinic, start=_at(10, day=date(2026, 12, 31)))
    assert closed.value.kind == "closure"
    assert "Holidays" in closed.value.reason


def test_the_room_is_held_until_the_buffer_ends(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        _book(session, clinic, start=_at(10))
        with pytest.raises(Conflict) as taken:  # 11:00 is inside the 15-minute buffer
            _book(session, clinic, client=1, who=1, start=_at(11))
        assert taken.value.kind == "room"
        assert "Room 1 is booked 10:00-11:00" in taken.value.reason
        assert _book(session, clinic, client=1, who=1, start=_at(11, 15)).id


def test_a_practitioner_and_a_client_are_never_in_two_rooms(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        _book(session, clinic, start=_at(10))
        with pytest.raises(Conflict) as busy:
            _book(session, clinic, client=1, room=1, start=_at(10, 30))
        assert busy.value.kind == "practitioner"
        assert "Ana" in busy.value.reason
        with pytest.raises(Conflict) as double:
            _book(session, clinic, room=1, who=1, start=_at(10, 30))
        assert double.value.kind == "client"


def test_cancelled_and_no_show_visits_free_their_slot(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        first = _book(session, clinic, start=_at(10))
        set_state(session, appointment_id=first.id, state="cancelled")
        second = _book(session, clinic, client=1, start=_at(10))
        set_state(session, appointment_id=second.id, state="no_show")
        assert _book(session, clinic, client=2, start=_at(10)).id


def test_a_move_checks_the_rules_but_not_against_itself(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        visit = _book(session, clinic, start=_at(10))
        other = _book(session, clinic, client=1, who=1, room=1, start=_at(10))
        moved = move_appointment(session, appointment_id=visit.id, start=_at(10, 30))
        assert moved.starts_at == datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
        with pytest.raises(Conflict) as clash:
            move_appointment(session, appointment_id=visit.id, room_id=clinic.rooms[1])
        assert clash.value.kind == "room"
        longer = move_appointment(session, appointment_id=visit.id, duration_min=90)
        assert longer.ends_at == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
        with pytest.raises(Conflict):  # 16:45 + 90 min runs past closing
            move_appointment(session, appointment_id=visit.id, start=_at(16, 45))
        assert other.starts_at == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_states_follow_their_transitions(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        visit = _book(session, clinic, start=_at(10))
        with pytest.raises(InvalidValue, match="may become"):
            set_state(session, appointment_id=visit.id, state="completed")
        set_state(session, appointment_id=visit.id, state="confirmed")
        set_state(session, appointment_id=visit.id, state="checked_in")
        with pytest.raises(InvalidValue, match="from its session"):
            set_state(session, appointment_id=visit.id, state="in_treatment")
        move_appointment(session, appointment_id=visit.id, start=_at(12))  # checked in: movable
        set_state(session, appointment_id=visit.id, state="cancelled")
        with pytest.raises(InvalidValue, match="final"):
            set_state(session, appointment_id=visit.id, state="booked")
        with pytest.raises(InvalidValue, match="only a booked"):
            move_appointment(session, appointment_id=visit.id, start=_at(14))


def test_a_session_links_and_completes_its_appointment_and_the_hook_runs(
    store: Store, clinic: Clinic
) -> None:
    completed: list[int] = []
    add_completion_hook(lambda _session, appointment: completed.append(appointment.id))
    with store.transaction() as session:
        visit = _book(session, clinic, start=_at(10))
        link_session(session, appointment_id=visit.id, treatment_session_id=41)
        assert visit.state == "in_treatment"
        assert complete_for_session(session, treatment_session_id=99) is None
        done = complete_for_session(session, treatment_session_id=41)
        assert done is not None and done.state == "completed"
    assert visit.id in completed


def test_a_weekly_series_is_booked_whole_or_not_at_all(store: Store, clinic: Clinic) -> None:
    booking = {"client_id": clinic.clients[0], "service_id": clinic.facial,
               "room_id": clinic.rooms[0], "practitioner_id": clinic.practitioners[0]}  # fmt: skip
    with store.transaction() as session:
        series = book_series(session, weeks=2, start=_at(10), **booking)
        assert len({a.series_id for a in series}) == 1
        with pytest.raises(Conflict) as christmas:  # week 3 is 21 Dec, week 4 Christmas Eve
            book_series(session, weeks=4, start=_at(14, day=MONDAY + timedelta(days=3)), **booking)
        assert "2026-12-31" in christmas.value.reason or "2026-12-24" in christmas.value.reason
        first = datetime(2026, 12, 7, tzinfo=UTC)
        assert len(appointments_between(session, first=first, last=first + timedelta(days=60))) == 2


def test_bad_settings_and_services_name_their_field(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        for values, field in (
            ({"time_zone": "Mars/Olympus"}, "time_zone"),
            ({"opening_hours": {"mon": [["18:00", "09:00"]]}}, "opening_hours.mon"),
            ({"opening_hours": {"funday": []}}, "opening_hours"),
            ({"reminder_lead_hours": 0}, "reminder_lead_hours"),
            ({"currency": "euro"}, "currency"),
        ):
            with pytest.raises(InvalidValue) as bad:
                save_settings(session, **values)
            assert bad.value.field == field
        with pytest.raises(InvalidValue) as step:
            update_service(session, service_id=clinic.facial,
                           steps=[{"name": "Sauna", "minutes": 5, "kind": "sauna"}])  # fmt: skip
        assert step.value.field == "steps[0].kind"
        assert get_settings(session).time_zone == "Europe/Lisbon"


def test_a_record_started_for_an_appointment_completes_it(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        visit = _book(session, clinic, start=_at(10))
        set_state(session, appointment_id=visit.id, state="checked_in")
    recorder = SessionRecorder.start(
        store, protocol_name="lift", client_id=clinic.clients[0], appointment_id=visit.id
    )
    with store.session() as session:
        linked = session.get(Appointment, visit.id)
        assert linked is not None and linked.state == "in_treatment"
        assert linked.treatment_session_id == recorder.session_id
    recorder.finish("completed")
    with store.session() as session:
        done = session.get(Appointment, visit.id)
        assert done is not None and done.state == "completed"


def test_a_record_cannot_start_for_a_cancelled_appointment(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        visit = _book(session, clinic, start=_at(10))
        set_state(session, appointment_id=visit.id, state="cancelled")
    with pytest.raises(InvalidValue, match="cancelled"):
        SessionRecorder.start(store, protocol_name="lift", appointment_id=visit.id)


def test_a_service_edited_leaves_its_booked_visits_and_times_the_next_booking(
    store: Store, clinic: Clinic
) -> None:
    with store.transaction() as session:
        booked = _book(session, clinic, start=_at(10))
        held = (booked.starts_at, booked.ends_at, booked.clear_at)
        update_service(session, service_id=clinic.facial, name="Long facial", duration_min=90,
                       buffer_min=0)  # fmt: skip
        session.expire_all()
        again = session.get(Appointment, booked.id)
        assert again is not None and (again.starts_at, again.ends_at, again.clear_at) == held
        later = _book(session, clinic, client=1, who=1, room=1, start=_at(14))
        assert later.ends_at == datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
        assert later.clear_at == later.ends_at
        with pytest.raises(InvalidValue) as bad:
            update_service(session, service_id=clinic.facial, duration_min=481)
        assert bad.value.field == "duration_min"
