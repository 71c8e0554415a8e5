"""A room and a service edited on pages of their own by the owner: what was typed kept and the
error beside its field on a bad value; a service's new duration leaves visits already booked
as they were, and the page says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from microamp.store.book import book_appointment, get_appointment
from microamp.store.book_setup import get_room, get_service, list_rooms, list_services
from microamp.store.models import Appointment, User
from web.conftest import Clinic, add_book, clinic_on, csrf_of


@pytest.fixture(scope="module")
def items_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("clinic-items")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        add_book(served)
        with served.store.transaction() as db:
            rooms = {r.name: r.id for r in list_rooms(db)}
            (service,) = list_services(db)
            owner = db.scalar(select(User.id).where(User.role == "owner"))
            assert owner is not None
            ahead = book_appointment(
                db, client_id=served.clients["blocked"], service_id=service.id,
                room_id=rooms["Room 2"], practitioner_id=owner,
                start=datetime.combine(date.today() + timedelta(days=2), time(12, 0)),
            )  # fmt: skip
            served.clients.update(ahead=ahead.id, service=service.id, room1=rooms["Room 1"],
                                  room2=rooms["Room 2"])  # fmt: skip
        yield served


def _post(clinic: Clinic, path: str, **data: str) -> tuple[int, str]:
    with closing(clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get(path).text)
        answer = owner.post(path, data={**data, "csrf_token": token})
    return answer.status_code, answer.text


def test_a_room_is_renamed_and_a_taken_name_is_refused_beside_its_field(
    items_clinic: Clinic,
) -> None:
    path = f"/settings/clinic/rooms/{items_clinic.clients['room1']}"
    status, text = _post(items_clinic, path, room_name="Garden room", station_name="")
    assert status == 303
    status, text = _post(items_clinic, path, room_name="Room 2", station_name="")
    assert status == 422 and 'id="room_name-error"' in text
    assert "another room has this name" in text and 'value="Room 2"' in text
    status, text = _post(items_clinic, path, room_name="Garden room", station_name="Nowhere")
    assert status == 422 and 'id="station_name-error"' in text and 'value="Nowhere"' in text
    with items_clinic.store.session() as db:
        room = get_room(db, room_id=items_clinic.clients["room1"])
        assert (room.name, room.station_name) == ("Garden room", None)


def test_a_service_is_edited_and_its_booked_visits_keep_their_times(
    items_clinic: Clinic,
) -> None:
    path = f"/settings/clinic/services/{items_clinic.clients['service']}"
    with closing(items_clinic.browser_client("owner")) as owner:
        shown = owner.get(path).text
    assert 'value="60"' in shown and 'value="Lift facial"' in shown
    # the visit in two days is ahead; the one `add_book` made today at 10:00 may be too
    with items_clinic.store.session() as db:
        starts = [a.starts_at for a in db.scalars(select(Appointment))]
    ahead = sum(1 for at in starts if at is not None and at >= datetime.now(UTC))
    said = "1 upcoming visit of this service stays" if ahead == 1 else (
        f"{ahead} upcoming visits of this service stay")  # fmt: skip
    assert f"{said} as booked" in shown
    with items_clinic.store.session() as db:
        before = get_appointment(db, appointment_id=items_clinic.clients["ahead"])
        span = (before.starts_at, before.ends_at, before.clear_at)
    status, _ = _post(items_clinic, path, service_name="Lift facial deluxe", duration_min="90",
                      buffer_min="10", price="150.25", protocol_name="pro-lift",
                      steps="Cleansing, 10, cleansing\nMicrocurrent, 60, microcurrent",
                      description="  Cleanse, then a lift, muscle by muscle.  ")  # fmt: skip
    assert status == 303
    with items_clinic.store.session() as db:
        service = get_service(db, service_id=items_clinic.clients["service"])
        assert (service.name, service.duration_min, service.buffer_min, service.price_minor,
                service.protocol_name) == ("Lift facial deluxe", 90, 10, 15025, "pro-lift")  # fmt: skip
        assert [s["kind"] for s in service.steps] == ["cleansing", "microcurrent"]
        assert service.description == "Cleanse, then a lift, muscle by muscle."
        after = get_appointment(db, appointment_id=items_clinic.clients["ahead"])
        assert (after.starts_at, after.ends_at, after.clear_at) == span


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"duration_min": "900"}, "duration_min", "Duration: a whole number of minutes, 5-480"),
        ({"buffer_min": "soon"}, "buffer_min", "Buffer: a whole number"),
        ({"price": "a lot"}, "price", "Price: an amount such as 120"),
        ({"steps": "Steam, 10, sauna"}, "steps", "Steps: line 1: a kind of"),
        ({"service_name": ""}, "service_name", "Service name:"),
        ({"description": "x" * 501}, "description", "Description: at most 500 characters"),
    ],
)
def test_a_bad_service_value_keeps_what_was_typed_beside_its_field(
    items_clinic: Clinic, changes: dict[str, str], field: str, message: str
) -> None:
    typed = {"service_name": "Typed facial", "duration_min": "45", "buffer_min": "5",
             "price": "99", "protocol_name": "", "steps": "", **changes}  # fmt: skip
    path = f"/settings/clinic/services/{items_clinic.clients['service']}"
    status, text = _post(items_clinic, path, **typed)
    assert status == 422
    assert f'id="{field}-error"' in text and message in text
    assert f'value="{typed["duration_min"]}"' in text
    with items_clinic.store.session() as db:
        assert get_service(db, service_id=items_clinic.clients["service"]).name != "Typed facial"


@pytest.mark.parametrize("role", ["practitioner", "reception"])
def test_only_the_owner_edits_rooms_and_services(items_clinic: Clinic, role: str) -> None:
    with closing(items_clinic.browser_client(role)) as someone:
        assert (
            someone.get(f"/settings/clinic/rooms/{items_clinic.clients['room2']}").status_code
            == 403
        )
        token = csrf_of(someone.get("/book").text)
        refused = someone.post(f"/settings/clinic/services/{items_clinic.clients['service']}",
                               data={"service_name": "Sneaky", "csrf_token": token})  # fmt: skip
        assert refused.status_code == 403
