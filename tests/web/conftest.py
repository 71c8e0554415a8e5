"""Web fixtures: the app served by a real uvicorn on 127.0.0.1 (a free port), on a temporary
SQLite file and, where MICROAMP_TEST_DATABASE_URL is set, on a PostgreSQL schema of its own
(a scratch PostgreSQL schema, as the store tests use). Staff of every role, each with an API token."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from microamp.clinic.intake import nothing_to_report
from microamp.clinic.plans import WEEKDAYS, parse_weekdays, plan_course
from microamp.clock import SimulatedClock
from microamp.station import LiveSessions, StartRequest
from microamp.store.access import create_api_token
from microamp.store.base import utc_now
from microamp.store.crud import create_client, create_user, record_consent, record_intake
from microamp.store.db import Store
from microamp.store.models import User
from microamp.store.planning import save_plan
from microamp.store.scratch import scratch_schema
from microamp.web import WebSettings, create_app
from microamp.web.app import open_web_store
from microamp.web.security import hash_password
from support.databases import PG_ENV, SKIP_REASON

PASSWORD = "a long test password"
ROLES = ("owner", "practitioner", "reception")


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; yields the base URL; stops it afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


@dataclass
class Clinic:
    """A served app and what the tests need to reach it."""

    url: str
    store: Store
    app: FastAPI
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    clients: dict[str, int] = field(default_factory=dict)

    def api(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def browser_client(self, role: str | None = None) -> httpx.Client:
        """An httpx client holding a signed-in session cookie (or an anonymous one)."""
        client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        if role is not None:
            sign_in(client, self.emails[role], PASSWORD)
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf_of(client.get("/signin").text)
    return client.post("/signin", data={"email": email, "password": password, "csrf_token": token})


def seed(store: Store, clinic: Clinic) -> None:
    """Staff of each role with a token; a cleared client with consent; a blocked one."""
    with store.transaction() as db:
        for role in ROLES:
            email = f"{role}@test.example"
            user = create_user(
                db, email=email, display_name=role.title(), role=role,
                password_hash=hash_password(PASSWORD),
            )  # fmt: skip
            clinic.emails[role] = email
            clinic.tokens[role] = create_api_token(db, user_id=user.id, name="tests")[1]
        cleared = create_client(db, full_name="Ana Lima", date_of_birth=date(1988, 4, 12))
        record_intake(db, client_id=cleared.id, answers=nothing_to_report(date(1988, 4, 12)),
                      on=date.today(), today=date.today())  # fmt: skip
        record_consent(db, client_id=cleared.id, typed_signature="Ana Lima")
        blocked = create_client(db, full_name="Ben Carter", date_of_birth=date(1961, 9, 3))
        record_intake(db, client_id=blocked.id, on=date.today(), today=date.today(),
                      answers=nothing_to_report(date(1961, 9, 3), pacemaker_or_implanted_device=True))  # fmt: skip
        record_consent(db, client_id=blocked.id, typed_signature="Ben Carter")
        clinic.clients = {"cleared": cleared.id, "blocked": blocked.id}


def add_history(clinic: Clinic) -> int:
    """A course plan for the cleared client and one past session of hers, run on the simulator
    in simulated time and recorded; returns the record's id."""
    with clinic.store.transaction() as db:
        plan = plan_course("clinic-initial", start=date.today() - timedelta(days=14),
                           weekdays=parse_weekdays("mon,thu"), months=3)  # fmt: skip
        save_plan(db, client_id=clinic.clients["cleared"], plan=plan, protocol_name="pro-express")
        practitioner = db.scalars(
            select(User).where(User.email == clinic.emails["practitioner"])
        ).one()
    sessions = LiveSessions(store=clinic.store, speed=clinic.app.state.settings.session_speed)
    request = StartRequest(clinic.clients["cleared"], "Ana Lima", "home-express",
                           "sim://?load=gel", 0.8, practitioner.id)  # fmt: skip
    live = sessions.start(request, on=date.today(), clock=SimulatedClock())
    if live.thread is not None:
        live.thread.join()
    return live.record_id


def add_book(clinic: Clinic) -> int:
    """Open every day 07:00-21:00 with two rooms, a facial, and one visit today at 10:00 in
    Room 1 for the cleared client with the practitioner; returns its id."""
    from microamp.store.book import book_appointment
    from microamp.store.book_setup import add_room, add_service, list_rooms, save_settings

    with clinic.store.transaction() as db:
        save_settings(db, name="Clinica Luz", time_zone="UTC",
                      opening_hours={d: [["07:00", "21:00"]] for d in WEEKDAYS})  # fmt: skip
        # the rooms may be there already (another helper's clinic in the same database)
        named = {r.name: r.id for r in list_rooms(db)}
        room = named.get("Room 1") or add_room(db, name="Room 1").id
        if "Room 2" not in named:
            add_room(db, name="Room 2")
        service = add_service(db, name="Lift facial", duration_min=60, buffer_min=15).id
        practitioner = db.scalar(select(User.id).where(User.role == "practitioner"))
        assert practitioner is not None
        visit = book_appointment(
            db, client_id=clinic.clients["cleared"], service_id=service, room_id=room,
            practitioner_id=practitioner, start=datetime.combine(date.today(), datetime.min.time()).replace(hour=10),
        )  # fmt: skip
        return visit.id


SERVICE_STEPS = (
    ("Cleansing", 5, "cleansing"),
    ("Skin analysis", 5, "skin_analysis"),
    ("Massage", 10, "massage"),
    ("Microcurrent lift", 20, "microcurrent"),
    ("Mask", 10, "mask"),
)


def add_service_visit(clinic: Clinic, hour: int = 12) -> int:
    """A visit today at ``hour`` in Room 2 for the cleared client with the practitioner, of a
    service whose manual steps wrap the microcurrent step (`SERVICE_STEPS`); returns its id."""
    from microamp.store.book import book_appointment
    from microamp.store.book_setup import (
        add_room,
        add_service,
        list_rooms,
        list_services,
        save_settings,
    )

    with clinic.store.transaction() as db:
        save_settings(db, name="Clinica Luz", time_zone="UTC",
                      opening_hours={d: [["07:00", "21:00"]] for d in WEEKDAYS})  # fmt: skip
        named = {r.name: r.id for r in list_rooms(db)}
        room = named.get("Room 2") or add_room(db, name="Room 2").id
        services = {s.name: s.id for s in list_services(db)}
        service = services.get("Signature facial") or add_service(
            db, name="Signature facial", duration_min=60, protocol_name="home-express",
            steps=[{"name": n, "minutes": m, "kind": k} for n, m, k in SERVICE_STEPS],
        ).id  # fmt: skip
        practitioner = db.scalar(select(User.id).where(User.role == "practitioner"))
        assert practitioner is not None
        visit = book_appointment(
            db, client_id=clinic.clients["cleared"], service_id=service, room_id=room,
            practitioner_id=practitioner,
            start=datetime.combine(date.today(), datetime.min.time()).replace(hour=hour),
        )  # fmt: skip
        return visit.id


def add_service_record(clinic: Clinic) -> int:
    """A visit of `add_service_visit`'s service at 16:00 whose cleansing and mask were done
    around a recorded microcurrent session; returns the record's id."""
    from microamp.store.recording import SessionRecorder
    from microamp.store.visit_steps import act_on_step, open_visit_steps

    visit = add_service_visit(clinic, hour=16)
    with clinic.store.transaction() as db:
        open_visit_steps(db, appointment_id=visit)
        act_on_step(db, appointment_id=visit, position=0, action="done",
                    products="Gentle foaming cleanser", operator="Practitioner")  # fmt: skip
        practitioner = db.scalar(select(User.id).where(User.role == "practitioner"))
    recorder = SessionRecorder.start(clinic.store, protocol_name="home-express",
                                     client_id=clinic.clients["cleared"],
                                     practitioner_id=practitioner, appointment_id=visit)  # fmt: skip
    recorder.finish("completed")
    with clinic.store.transaction() as db:
        act_on_step(db, appointment_id=visit, position=4, action="start")
        act_on_step(db, appointment_id=visit, position=4, action="done",
                    products="Hydrating clay mask", operator="Practitioner")  # fmt: skip
    return recorder.session_id


def add_front_photos(clinic: Clinic) -> None:
    """Two front photos of the cleared client, a month apart, measured as at upload (the
    astronaut portrait, the second one reframed), where the landmark model is installed."""
    from microamp.store.photos import add_progress_entry
    from support import faces

    image = faces.astronaut()
    later = faces.similar(image, scale=0.95, rotation_deg=2, shift_px=(8, 4))
    with clinic.store.transaction() as db:
        for days_ago, photo in ((40, image), (10, later)):
            add_progress_entry(
                db, client_id=clinic.clients["cleared"], taken_on=date.today() - timedelta(days=days_ago),
                today=date.today(), photo=faces.jpeg(photo), view="front", photo_use_consent=True,
                lighting_notes="window light",
            )  # fmt: skip


@contextmanager
def clinic_on(
    database_url: str,
    data_dir: Path,
    speed: float = 400.0,
    *,
    seeded: bool = True,
    device_url: str = "sim://?load=gel",
    wall_clock: Callable[[], datetime] = utc_now,
    **more_settings: Any,
) -> Iterator[Clinic]:
    settings = WebSettings(
        database_url=database_url, data_dir=data_dir, session_speed=speed,
        device_url=device_url, **({"secret_key": "k" * 40} | more_settings),
    )  # fmt: skip
    store = open_web_store(settings)
    try:
        app = create_app(settings, store=store, wall_clock=wall_clock)
        with serve(app) as url:
            clinic = Clinic(url=url, store=store, app=app)
            if seeded:
                seed(store, clinic)
            yield clinic
    finally:
        store.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def clinic(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clinic]:
    """A served clinic per module and database."""
    with clinic_on_database(request.param, tmp_path_factory.mktemp("web")) as served:
        yield served


@contextmanager
def clinic_on_database(database: str, data_dir: Path, **options: Any) -> Iterator[Clinic]:
    """`clinic_on` a SQLite file in ``data_dir`` (``database`` "sqlite") or a scratch schema of
    the test PostgreSQL ("postgresql"; skipped where none is set)."""
    if database == "sqlite":
        with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir, **options) as served:
            yield served
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url, clinic_on(url, data_dir, **options) as served:
        yield served


@pytest.fixture(scope="module")
def sqlite_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """A served clinic on SQLite only (tests about the app, not the database)."""
    data_dir = tmp_path_factory.mktemp("web")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        yield served
