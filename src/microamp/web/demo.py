"""Demo data for a first look (`microamp serve --demo`): staff, clients, plans, a past session.

Created once, on an empty database. The owner's password is random, kept in
``<data_dir>/demo-credentials.txt`` (mode 0600) so that every start can say how to sign in.
The past session is a real run of the simulator in simulated time, recorded as any other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from microamp.clinic import plans as clinic_plans
from microamp.clinic.intake import nothing_to_report
from microamp.clock import SimulatedClock
from microamp.station import LiveSessions, StartRequest
from microamp.store.book import book_appointment
from microamp.store.book_setup import add_room, add_service, save_settings
from microamp.store.crud import create_client, create_user, record_consent, record_intake
from microamp.store.db import Store
from microamp.store.files import write_private
from microamp.store.models import User
from microamp.store.planning import save_plan
from microamp.web.security import hash_password
from microamp.web.settings import WebSettings

__all__ = ["DemoLogin", "demo_login", "seed_demo"]

OWNER_EMAIL = "owner@clinic.example"
STAFF = (
    (OWNER_EMAIL, "Olivia Grant", "owner"),
    ("practitioner@clinic.example", "Priya Shah", "practitioner"),
    ("reception@clinic.example", "Rosa Diaz", "reception"),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    emails: tuple[str, ...]
    password: str


def _credentials_file(data_dir: Path) -> Path:
    return data_dir / "demo-credentials.txt"


def demo_login(data_dir: Path) -> DemoLogin | None:
    """The demo's sign-in, if this data directory holds one."""
    path = _credentials_file(data_dir)
    if not path.is_file():
        return None
    password = path.read_text(encoding="utf-8").strip()
    return DemoLogin(tuple(email for email, _, _ in STAFF), password)


def seed_demo(store: Store, settings: WebSettings, *, today: date | None = None) -> DemoLogin:
    """Fill an empty database with the demo; on one that has users, only report the login."""
    today = today or date.today()
    with store.session() as db:
        has_users = bool(db.scalar(select(func.count()).select_from(User)))
    found = demo_login(settings.data_dir)
    if has_users:
        return found or DemoLogin((), "")
    password = secrets.token_urlsafe(12)
    with store.transaction() as db:
        ids = _people(db, password, today)
    _past_session(store, settings, ids, today)
    write_private(_credentials_file(settings.data_dir), (password + "\n").encode("utf-8"))
    return DemoLogin(tuple(email for email, _, _ in STAFF), password)


def _people(db: Any, password: str, today: date) -> dict[str, int]:
    hashed = hash_password(password)
    users = {
        role: create_user(db, email=email, display_name=name, role=role, password_hash=hashed).id
        for email, name, role in STAFF
    }
    weekday = clinic_plans.WEEKDAYS[today.weekday()]
    other = clinic_plans.WEEKDAYS[(today.weekday() + 3) % 7]
    people: dict[str, tuple[str, date, str, dict[str, Any] | None, list[str]]] = {
        "ana": ("Ana Lima", date(1988, 4, 12), "+1 555 0101", {}, [weekday, other]),
        "ben": (
            "Ben Carter",
            date(1961, 9, 3),
            "+1 555 0102",
            {"pacemaker_or_implanted_device": True},
            [],
        ),  # fmt: skip
        "chloe": ("Chloe Martin", date(1975, 1, 22), "+1 555 0103", {"heart_condition": True}, []),
        "dana": (
            "Dana Kim",
            date(1993, 11, 5),
            "+1 555 0104",
            {"metal_in_face_zones": ["jawline"]},
            ["tue", "fri"],
        ),  # fmt: skip
        "eli": ("Eli Novak", date(1990, 6, 30), "+1 555 0105", None, []),
    }
    ids: dict[str, int] = {"practitioner": users["practitioner"]}
    for key, (name, born, phone, changes, days) in people.items():
        client = create_client(
            db, full_name=name, date_of_birth=born, phone=phone,
            email=f"{key}@mail.example", preferred_weekdays=days, today=today,
        )  # fmt: skip
        ids[key] = client.id
        if changes is None:
            continue
        record_intake(db, client_id=client.id, answers=nothing_to_report(born, **changes), on=today,
                      today=today, recorded_by_id=users["practitioner"])  # fmt: skip
        if key in ("ana", "dana", "chloe"):
            record_consent(db, client_id=client.id, typed_signature=name,
                           witnessed_by_id=users["practitioner"])  # fmt: skip
    _plans(db, ids, users["practitioner"], today, weekday, other)
    _book(db, ids, users, today)
    return ids


DEMO_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
DEMO_STEPS = {
    "Microcurrent facial": [
        ("Consultation", 5, "consultation"),
        ("Cleansing", 10, "cleansing"),
        ("Microcurrent lift", 30, "microcurrent"),
        ("Mask", 10, "mask"),
        ("Home-care advice", 5, "home_care_advice"),
    ],
    "Express lift": [("Cleansing", 5, "cleansing"), ("Microcurrent lift", 20, "microcurrent")],
    "Signature facial with LED": [
        ("Consultation", 5, "consultation"),
        ("Cleansing", 10, "cleansing"),
        ("Skin analysis", 5, "skin_analysis"),
        ("Steam and exfoliation", 10, "steam_exfoliation"),
        ("Massage", 10, "massage"),
        ("Microcurrent lift", 30, "microcurrent"),
        ("LED", 10, "led"),
        ("Serums", 5, "serums"),
    ],
}


def _weekdays_from(today: date, count: int) -> list[date]:
    """``count`` working days from today (today first when it is one)."""
    days: list[date] = []
    day = today
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _book(db: Any, ids: dict[str, int], users: dict[str, int], today: date) -> None:
    """The clinic's book: Mon-Fri 09:00-18:00, two rooms, three services, a few visits today
    (or on the next working day) and this week, booked through the book's own rules."""
    save_settings(db, name="Microamp demo clinic", address="1 Main Street, Springfield",
                  time_zone="America/New_York", opening_hours=DEMO_HOURS,
                  care_sheet="Sunscreen, a gentle moisturiser, and plenty of water today.")  # fmt: skip
    rooms = [add_room(db, name=name).id for name in ("Room 1", "Room 2")]
    services = [
        add_service(db, name=name, duration_min=minutes, buffer_min=15, price_minor=price,
                    protocol_name="pro-express", description=description,
                    steps=[{"name": n, "minutes": m, "kind": k} for n, m, k in DEMO_STEPS[name]])
        .id
        for name, minutes, price, description in (
            ("Microcurrent facial", 60, 15000,
             "Cleanse, skin check, massage, then microcurrent over the face muscle by muscle, "
             "and a mask."),
            ("Express lift", 30, 8000, "Cleanse and a short microcurrent routine."),
            ("Signature facial with LED", 90, 22000,
             "The full facial with microcurrent, LED light and serums."))
    ]  # fmt: skip
    first, second, third = _weekdays_from(today, 3)
    practitioner, owner = users["practitioner"], users["owner"]
    visits = (
        (first, time(10, 0), "ana", 0, rooms[0], practitioner),
        (first, time(11, 30), "chloe", 1, rooms[0], practitioner),
        (first, time(14, 0), "eli", 2, rooms[1], owner),
        (second, time(9, 30), "dana", 0, rooms[1], owner),
        (third, time(15, 0), "eli", 1, rooms[0], practitioner),
    )
    for day, at, who, service, room, by in visits:
        book_appointment(db, client_id=ids[who], service_id=services[service], room_id=room,
                         practitioner_id=by, start=datetime.combine(day, at),
                         booked_by_id=users["reception"])  # fmt: skip


def _plans(db: Any, ids: dict[str, int], by: int, today: date, day: str, other: str) -> None:
    first = clinic_plans.plan_course(
        "clinic-initial",
        start=today - timedelta(days=14),
        weekdays=clinic_plans.parse_weekdays(f"{day},{other}"),
        months=6,
    )
    save_plan(db, client_id=ids["ana"], plan=first, protocol_name="pro-express", created_by_id=by)
    second = clinic_plans.plan_course(
        "weekly-series", start=today + timedelta(days=1), weekdays=(1, 4), months=4
    )
    save_plan(db, client_id=ids["dana"], plan=second, protocol_name="pro-express", created_by_id=by)


def _past_session(store: Store, settings: WebSettings, ids: dict[str, int], today: date) -> None:
    """One real session of the simulator for Ana, run in simulated time and recorded."""
    sessions = LiveSessions(store=store, speed=settings.session_speed)
    request = StartRequest(
        ids["ana"], "Ana Lima", "home-express", "sim://?load=gel", 0.8, ids["practitioner"]
    )
    live = sessions.start(request, on=today, clock=SimulatedClock())
    if live.thread is not None:
        live.thread.join()
