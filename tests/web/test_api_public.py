"""Online booking's reads over the JSON API, with no account, on SQLite and PostgreSQL: the
clinic and its services (nothing held back from them leaks: no buffer, protocol or steps), and a
service's free slots in the clinic's zone, from the app's clock on, leaving out what the book
holds; a bad ask is a 422 naming its field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from microamp.store.book import book_appointment
from microamp.store.book_setup import add_room, add_service, save_settings
from microamp.store.models import User
from web.conftest import Clinic, clinic_on_database

MONDAY = date(2026, 12, 7)
# the app's clock: 10:05 in New York (UTC-5 in winter) on that Monday
NOW = datetime(2026, 12, 7, 15, 5, tzinfo=UTC)
HOURS = {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed")}


@dataclass(frozen=True)
class Online:
    clinic: Clinic
    facial: int
    retired: int
    ana: int  # a practitioner
    owner: int


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def online(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Online]:
    data_dir = tmp_path_factory.mktemp("public")
    with clinic_on_database(request.param, data_dir, wall_clock=lambda: NOW) as served:
        yield _set_up(served)


def _set_up(clinic: Clinic) -> Online:
    with clinic.store.transaction() as db:
        save_settings(db, name="Clinica Luz", address="12 Grove St, Brooklyn",
                      time_zone="America/New_York", opening_hours=HOURS)  # fmt: skip
        room = add_room(db, name="Room 1").id
        facial = add_service(
            db, name="Lift facial", duration_min=60, buffer_min=15, price_minor=12000,
            currency="EUR", protocol_name="pro-express", description="Cleanse, lift, mask.",
        ).id  # fmt: skip
        retired = add_service(db, name="Old facial", duration_min=30, active=False).id
        ana = db.scalar(select(User.id).where(User.role == "practitioner"))
        owner = db.scalar(select(User.id).where(User.role == "owner"))
        assert ana is not None and owner is not None
        # the owner gives 11:00-12:00 on Monday in Room 1 (buffer to 12:15)
        book_appointment(db, client_id=clinic.clients["cleared"], service_id=facial,
                         room_id=room, practitioner_id=owner,
                         start=datetime(2026, 12, 7, 11, 0))  # fmt: skip
    return Online(clinic, facial, retired, ana, owner)


def test_the_clinic_and_its_services_are_read_with_no_account(online: Online) -> None:
    with online.clinic.api() as anyone:
        answer = anyone.get("/api/v1/public/services")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["clinic"], body["address"], body["time_zone"]) == (
        "Clinica Luz", "12 Grove St, Brooklyn", "America/New_York"
    )  # fmt: skip
    assert body["opening_hours"]["mon"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert body["opening_hours"]["sun"] == []
    assert body["services"] == [
        {"id": online.facial, "name": "Lift facial", "description": "Cleanse, lift, mask.",
         "duration_min": 60, "price_minor": 12000, "currency": "EUR"},
    ]  # fmt: skip
    assert {p["id"] for p in body["practitioners"]} == {online.ana, online.owner}


AFTERNOON = [f"{h}:{m:02d}" for h in range(14, 17) for m in (0, 15, 30, 45)] + ["17:00"]


def _starts(body: dict) -> dict[int, list[str]]:
    by_who: dict[int, list[str]] = {}
    for slot in body["slots"]:
        start = datetime.fromisoformat(slot["start"])
        assert start.utcoffset() == timedelta(hours=-5)  # the clinic's offset in December
        by_who.setdefault(slot["practitioner_id"], []).append(f"{start:%H:%M}")
    return by_who


def test_free_slots_start_from_now_and_leave_out_what_is_held(online: Online) -> None:
    with online.clinic.api() as anyone:
        answer = anyone.get("/api/v1/public/slots",
                            params={"service_id": online.facial, "date": "2026-12-07"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["service_id"], body["time_zone"]) == (online.facial, "America/New_York")
    # The app's clock says 10:05, and the only room is held 11:00-12:15: a 60-minute facial
    # with its 15-minute buffer from 10:15 to 12:00 would meet it, and one from 12:15 would end
    # after the morning closes at 13:00. So the morning has nothing left, for anyone; the
    # afternoon is free for both, ending by 18:00.
    assert _starts(body) == {online.ana: AFTERNOON, online.owner: AFTERNOON}


def test_a_practitioner_asked_for_is_the_only_one_offered(online: Online) -> None:
    with online.clinic.api() as anyone:
        body = anyone.get("/api/v1/public/slots", params={
            "service_id": online.facial, "date": "2026-12-07", "practitioner_id": online.ana,
        }).json()  # fmt: skip
    assert _starts(body) == {online.ana: AFTERNOON}


def test_a_day_not_yet_begun_is_free_from_opening(online: Online) -> None:
    with online.clinic.api() as anyone:
        body = anyone.get("/api/v1/public/slots",
                          params={"service_id": online.facial, "date": "2026-12-08"}).json()  # fmt: skip
    morning = ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45",
               "11:00", "11:15", "11:30", "11:45", "12:00"]  # fmt: skip
    assert _starts(body) == {online.ana: morning + AFTERNOON, online.owner: morning + AFTERNOON}


def test_several_days_at_once_skip_the_days_the_clinic_is_closed(online: Online) -> None:
    with online.clinic.api() as anyone:
        body = anyone.get("/api/v1/public/slots", params={
            "service_id": online.facial, "date": "2026-12-08", "days": 7,
        }).json()  # fmt: skip
    days = sorted({s["start"][:10] for s in body["slots"]})
    # Tuesday and Wednesday, then closed until next Monday
    assert days == ["2026-12-08", "2026-12-09", "2026-12-14"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date": "2026-12-07"}, "service_id"),
        ({"service_id": "x", "date": "2026-12-07"}, "service_id"),
        ({"service_id": 0, "date": "2026-12-07"}, "service_id"),
        ({"service_id": 999, "date": "2026-12-07"}, "service_id"),
        ({"date": "7/12/2026"}, "date"),
        ({"date": "2026-12-07", "days": 32}, "days"),
        ({"date": "2026-12-07", "practitioner_id": 999}, "practitioner_id"),
    ],
)
def test_a_bad_ask_is_a_422_naming_its_field(online: Online, params: dict, field: str) -> None:
    if field != "service_id":
        params = {"service_id": online.facial} | params
    with online.clinic.api() as anyone:
        answer = anyone.get("/api/v1/public/slots", params=params)
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_an_inactive_service_has_no_slots_to_offer(online: Online) -> None:
    with online.clinic.api() as anyone:
        answer = anyone.get("/api/v1/public/slots",
                            params={"service_id": online.retired, "date": "2026-12-07"})  # fmt: skip
    assert answer.status_code == 422
    assert "an active service" in answer.text
