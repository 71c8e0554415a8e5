"""The book's week: Monday to Sunday in the clinic's zone, hours and closures shown, one room's
or practitioner's visits or all; and a visit dropped on the grid, which the one booking rule
decides (moved, resized, or refused with its reason and left where it was)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from microamp.store.book import book_appointment, get_appointment, set_state
from microamp.store.book_setup import add_closure, list_rooms, list_services, save_settings
from microamp.store.models import User
from web.conftest import Clinic, add_book, clinic_on, csrf_of

# a fixed week: Monday 7 December 2026; Christmas week has a closure
MONDAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def week_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("book-week")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        today_visit = add_book(served)
        with served.store.transaction() as db:
            # the helper's visit is today at 10:00 in Room 1; this week's fixed visits must not
            # meet it when today falls in that week, so it is cancelled (it then holds no slot)
            set_state(db, appointment_id=today_visit, state="cancelled")
            hours = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            save_settings(
                db, time_zone="Europe/Lisbon", opening_hours={**hours, "sat": [["10:00", "13:00"]]}
            )
            add_closure(db, first_day=MONDAY + timedelta(days=2), last_day=MONDAY + timedelta(days=2),
                        reason="Staff training")  # fmt: skip
            rooms = {r.name: r.id for r in list_rooms(db)}
            (service,) = list_services(db)
            users = {u.role: u.id for u in db.scalars(select(User))}
            ids = {}
            for name, day, at, room, who in (
                ("cleared", 0, time(10), "Room 1", "practitioner"),
                ("blocked", 0, time(13), "Room 2", "owner"),
                ("blocked", 3, time(9, 30), "Room 1", "owner"),
            ):
                visit = book_appointment(
                    db, client_id=served.clients[name], service_id=service.id,
                    room_id=rooms[room], practitioner_id=users[who],
                    start=datetime.combine(MONDAY + timedelta(days=day), at),
                )  # fmt: skip
                ids[f"{name}-{day}"] = visit.id
            served.clients.update(ids, room1=rooms["Room 1"], room2=rooms["Room 2"],
                                  owner=users["owner"])  # fmt: skip
        yield served


def _week(clinic: Clinic, query: str) -> str:
    with closing(clinic.browser_client("reception")) as reception:
        answer = reception.get(f"/book/week?{query}")
    assert answer.status_code == 200, answer.text
    return answer.text


def test_the_week_runs_monday_to_sunday_with_its_hours_closures_and_visits(
    week_clinic: Clinic,
) -> None:
    text = _week(week_clinic, f"day={MONDAY + timedelta(days=4)}")
    head = text.split("<thead>")[1].split("</thead>")[0]
    assert head.index("Mon 07 Dec") < head.index("Sun 13 Dec")
    assert "Closed: Staff training" in head and "10:00-13:00" in head and "closed" in head
    assert "Europe/Lisbon" in text
    body = text.split("<tbody>")[1].split("</tbody>")[0]
    rows = [r.split("</th>")[0].split(">")[-1] for r in body.split('<tr><th scope="row">')[1:]]
    assert rows[0] == "09:00" and rows[-1] == "17:45" and len(rows) == 36
    for visit in ("cleared-0", "blocked-0", "blocked-3"):
        assert f'data-testid="visit-{week_clinic.clients[visit]}"' in text
    # the list by day, for a narrow screen, says the same
    listing = text.split('data-testid="week-list"')[1]
    assert "The clinic is closed on 2026-12-09 (Staff training)" in listing
    assert "10:00-11:00: " in listing and "Ana Lima" in listing
    assert 'href="/book?day=2026-12-10&amp;by=room"' in listing
    assert 'href="/book/week?day=2026-11-30&amp;by=room"' in text  # the week before


def test_the_week_of_one_room_or_one_practitioner_shows_its_visits_alone(
    week_clinic: Clinic,
) -> None:
    room2 = _week(week_clinic, f"day={MONDAY}&by=room&only={week_clinic.clients['room2']}")
    assert f'visit-{week_clinic.clients["blocked-0"]}"' in room2
    assert f'visit-{week_clinic.clients["cleared-0"]}"' not in room2
    assert f'data-room="{week_clinic.clients["room2"]}"' in room2
    owner = _week(week_clinic, f"day={MONDAY}&by=practitioner&only={week_clinic.clients['owner']}")
    assert f'visit-{week_clinic.clients["blocked-3"]}"' in owner
    assert f'visit-{week_clinic.clients["cleared-0"]}"' not in owner
    with closing(week_clinic.browser_client("reception")) as reception:
        assert reception.get("/book/week?by=room&only=999").status_code == 422
        assert reception.get("/book/week?day=2026-13-01").status_code == 422


def _drop(clinic: Clinic, visit: str, **fields: str) -> tuple[int, dict[str, str]]:
    with closing(clinic.browser_client("reception")) as reception:
        token = csrf_of(reception.get(f"/book?day={MONDAY}").text)
        answer = reception.post(f"/book/{clinic.clients[visit]}/drop",
                                data={**fields, "csrf_token": token})  # fmt: skip
    return answer.status_code, answer.json()


def _local_span(clinic: Clinic, visit: str) -> tuple[str, str, int | None]:
    with clinic.store.session() as db:
        a = get_appointment(db, appointment_id=clinic.clients[visit])
        assert a.starts_at is not None and a.ends_at is not None
        # Lisbon is on UTC in December
        return f"{a.starts_at:%Y-%m-%dT%H:%M}", f"{a.ends_at:%H:%M}", a.room_id


def test_a_drop_moves_resizes_or_is_refused_with_its_reason(week_clinic: Clinic) -> None:
    status, answer = _drop(week_clinic, "cleared-0", start="2026-12-08T11:00",
                           room_id=str(week_clinic.clients["room2"]))  # fmt: skip
    assert status == 200 and answer["span"] == "11:00-12:00" and answer["room"] == "Room 2"
    assert _local_span(week_clinic, "cleared-0") == ("2026-12-08T11:00", "12:00",
                                                     week_clinic.clients["room2"])  # fmt: skip
    status, answer = _drop(week_clinic, "cleared-0", start="2026-12-08T11:00", duration_min="90")
    assert status == 200 and answer["span"] == "11:00-12:30"
    status, answer = _drop(week_clinic, "cleared-0", start="2026-12-09T11:00")
    assert (
        status == 409 and answer["reason"] == "the clinic is closed on 2026-12-09 (Staff training)"
    )
    status, answer = _drop(week_clinic, "cleared-0", start="2026-12-07T13:30",
                           room_id=str(week_clinic.clients["room2"]))  # fmt: skip
    assert status == 409 and answer["kind"] == "room"
    assert answer["reason"] == "Room 2 is booked 13:00-14:00 (buffer included)"
    status, answer = _drop(week_clinic, "cleared-0", start="eleven")
    assert status == 422 and answer["kind"] == "start"
    assert _local_span(week_clinic, "cleared-0")[:2] == ("2026-12-08T11:00", "12:30")
