"""A small clinic for appointment-book tests: Mon-Fri 09:00-18:00 in Europe/Lisbon, a
closure over Christmas, two rooms, two practitioners, three clients, a 60-minute service with
a 15-minute buffer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from microamp.store.book_setup import add_closure, add_room, add_service, save_settings
from microamp.store.crud import create_client, create_user

WEEKDAY_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# a Monday, in winter (Lisbon is UTC+0 then)
MONDAY = date(2026, 12, 7)


@dataclass(frozen=True)
class Clinic:
    rooms: tuple[int, int]
    practitioners: tuple[int, int]
    clients: tuple[int, int, int]
    facial: int  # 60 min + 15 min buffer
    short: int  # 30 min, no buffer


def seed_clinic(session: Session) -> Clinic:
    save_settings(
        session,
        name="Clinica Luz",
        time_zone="Europe/Lisbon",
        opening_hours=WEEKDAY_HOURS,
    )
    add_closure(session, first_day=date(2026, 12, 24), last_day=date(2027, 1, 1), reason="Holidays")
    rooms = (add_room(session, name="Room 1").id, add_room(session, name="Room 2").id)
    practitioners = (
        create_user(session, email="ana@example.org", display_name="Ana").id,
        create_user(session, email="rui@example.org", display_name="Rui").id,
    )
    clients = tuple(
        create_client(session, full_name=name, date_of_birth=date(1980, 1, 1)).id
        for name in ("Bea Costa", "Carla Dias", "Dora Reis")
    )
    facial = add_service(
        session,
        name="Microcurrent facial",
        duration_min=60,
        buffer_min=15,
        price_minor=12000,
        currency="EUR",
        protocol_name="lift",
        steps=[
            {"name": "Cleanse", "minutes": 10, "kind": "cleansing"},
            {"name": "Microcurrent", "minutes": 40, "kind": "microcurrent"},
            {"name": "Mask", "minutes": 10, "kind": "mask"},
        ],
    ).id
    short = add_service(session, name="Express", duration_min=30).id
    assert len(clients) == 3
    return Clinic(rooms, practitioners, (clients[0], clients[1], clients[2]), facial, short)
