"""Demo data for a first look (`microamp serve --demo`): staff, clients, plans, a past session.

Created once, on an empty database. The owner's password is random, kept in
``<data_dir>/demo-credentials.txt`` (mode 0600) so that every start can say how to sign in.
The past session is a real run of the simulator in simulated time, recorded as any other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from microamp.clinic import plans as clinic_plans
from microamp.clinic.intake import nothing_to_report
from microamp.clock import SimulatedClock
from microamp.station import LiveSessions, StartRequest
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
    return ids


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
