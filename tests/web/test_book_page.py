"""The book page: a visit moved and resized by form (a refusal beside its field with its
reason, what was typed kept), the day by room or by practitioner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from microamp.store.book import book_appointment, get_appointment
from microamp.store.book_setup import list_rooms, list_services
from microamp.store.models import User
from web.conftest import Clinic, add_book, clinic_on, csrf_of


@pytest.fixture(scope="module")
def book_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("book-page")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        served.clients["visit"] = add_book(served)
        with served.store.transaction() as db:
            rooms = {r.name: r.id for r in list_rooms(db)}
            (service,) = list_services(db)
            owner = db.scalar(select(User.id).where(User.role == "owner"))
            assert owner is not None
            other = book_appointment(
                db, client_id=served.clients["blocked"], service_id=service.id,
                room_id=rooms["Room 2"], practitioner_id=owner,
                start=datetime.combine(date.today(), time(13, 0)),
            )  # fmt: skip
            served.clients["other"] = other.id
            served.clients["room2"] = rooms["Room 2"]
            served.clients["room1"] = rooms["Room 1"]
        yield served


def _move(clinic: Clinic, visit: int, **changes: str) -> tuple[int, str]:
    with closing(clinic.browser_client("reception")) as reception:
        shown = reception.get(f"/book/{visit}/move")
        assert shown.status_code == 200
        form = {"day": date.today().isoformat(), "start": "10:00", "end": "11:00",
                "room_id": str(clinic.clients["room1"]), "csrf_token": csrf_of(shown.text)}  # fmt: skip
        with clinic.store.session() as db:
            form["practitioner_id"] = str(get_appointment(db, appointment_id=visit).practitioner_id)
        form.update(changes)
        answer = reception.post(f"/book/{visit}/move", data=form)
    return answer.status_code, answer.text


def _span(clinic: Clinic, visit: int) -> tuple[str, str, int | None]:
    with clinic.store.session() as db:
        a = get_appointment(db, appointment_id=visit)
        assert a.starts_at is not None and a.ends_at is not None
        return f"{a.starts_at:%H:%M}", f"{a.ends_at:%H:%M}", a.room_id


def test_the_move_form_starts_from_the_visit_as_booked(book_clinic: Clinic) -> None:
    with closing(book_clinic.browser_client("reception")) as reception:
        shown = reception.get(f"/book/{book_clinic.clients['visit']}/move").text
    assert 'value="10:00"' in shown and 'value="11:00"' in shown
    assert "Ana Lima" in shown


def test_a_visit_moved_into_a_taken_room_is_refused_beside_the_room_with_its_reason(
    book_clinic: Clinic,
) -> None:
    status, text = _move(book_clinic, book_clinic.clients["visit"], start="13:30", end="14:30",
                         room_id=str(book_clinic.clients["room2"]))  # fmt: skip
    assert status == 409
    assert 'id="room_id-error"' in text and "Room: Room 2 is booked 13:00-14:00" in text
    assert 'value="13:30"' in text and 'value="14:30"' in text
    assert _span(book_clinic, book_clinic.clients["visit"])[:2] == ("10:00", "11:00")


@pytest.mark.parametrize(
    ("changes", "field", "message", "status"),
    [
        ({"end": "09:30"}, "end", "End: after the start", 422),
        ({"start": "06:00", "end": "07:00"}, "start", "Start: ", 409),
        ({"start": "ten"}, "start", "Start: a time as HH:MM", 422),
        ({"end": "10:02"}, "end", "End: a whole number of minutes, 5-480", 422),
    ],
)
def test_a_bad_move_is_named_beside_its_field(
    book_clinic: Clinic, changes: dict[str, str], field: str, message: str, status: int
) -> None:
    answer_status, text = _move(book_clinic, book_clinic.clients["visit"], **changes)
    assert answer_status == status
    assert f'id="{field}-error"' in text and message in text
    assert _span(book_clinic, book_clinic.clients["visit"])[:2] == ("10:00", "11:00")


def test_a_visit_is_moved_to_another_room_and_resized_by_its_end(book_clinic: Clinic) -> None:
    visit = book_clinic.clients["visit"]
    status, _ = _move(book_clinic, visit, start="15:00", end="16:30",
                      room_id=str(book_clinic.clients["room2"]))  # fmt: skip
    assert status == 303
    assert _span(book_clinic, visit) == ("15:00", "16:30", book_clinic.clients["room2"])
    status, _ = _move(book_clinic, visit, start="15:00", end="15:45",
                      room_id=str(book_clinic.clients["room2"]))  # fmt: skip
    assert status == 303 and _span(book_clinic, visit)[1] == "15:45"
    with closing(book_clinic.browser_client("reception")) as reception:
        day = reception.get("/book").text
    assert "15:00-15:45" in day and f'href="/book/{visit}/move"' in day


def test_the_day_by_practitioner_puts_each_visit_in_its_practitioners_column(
    book_clinic: Clinic,
) -> None:
    with closing(book_clinic.browser_client("reception")) as reception:
        by_room = reception.get("/book?by=room").text
        by_person = reception.get("/book?by=practitioner").text
        wrong = reception.get("/book?by=colour")
    head = by_person.split("<thead>")[1].split("</thead>")[0]
    assert "Practitioner" in head and "Owner" in head and "Room 1" not in head
    assert "Room 1" in by_room.split("<thead>")[1].split("</thead>")[0]
    assert "The day by practitioner" in by_person
    assert wrong.status_code == 422


def test_a_visit_no_longer_booked_is_not_moved(book_clinic: Clinic) -> None:
    other = book_clinic.clients["other"]
    with closing(book_clinic.browser_client("reception")) as reception:
        token = csrf_of(reception.get("/book").text)
        done = reception.post(f"/book/{other}/state",
                              data={"state": "no_show", "by": "practitioner", "csrf_token": token})  # fmt: skip
        assert done.status_code == 303 and done.headers["location"].endswith("by=practitioner")
        assert "can no longer be moved" in reception.get(f"/book/{other}/move").text
    status, text = _move(book_clinic, other, start="16:00", end="17:00")
    assert status == 422 and "only a booked appointment is moved" in text


def test_the_console_opens_for_a_visit_and_refuses_another_clients_visit(
    book_clinic: Clinic,
) -> None:
    visit = book_clinic.clients["visit"]
    with closing(book_clinic.browser_client("practitioner")) as nurse:
        console = nurse.get(f"/console?appointment_id={visit}").text
        assert 'name="appointment_id" value="' + str(visit) + '"' in console
        assert f'value="{book_clinic.clients["cleared"]}" checked' in console
        refused = nurse.post("/console/start", data={
            "client_id": str(book_clinic.clients["blocked"]), "protocol": "home-express",
            "device_url": "sim://?load=gel", "intensity": "100", "appointment_id": str(visit),
            "csrf_token": csrf_of(console)})  # fmt: skip
    assert refused.status_code == 422
    assert "Booked visit: a booked visit of this client, not yet begun" in refused.text
    with book_clinic.store.session() as db:
        assert get_appointment(db, appointment_id=visit).state == "booked"


def test_a_start_request_carries_its_visit_to_a_station() -> None:
    from microamp.station.live import StartRequest

    request = StartRequest(1, "Ana Lima", "home-express", "sim://", 0.5, 2, None, 7)
    assert StartRequest.from_dict(request.to_dict()) == request
    older = {k: v for k, v in request.to_dict().items() if k != "appointment_id"}
    assert StartRequest.from_dict(older).appointment_id is None
