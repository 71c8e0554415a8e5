"""The big clinic: the day view, the client search and a client page under 50 concurrent
clients, on a clinic of 10,000 clients, 100,000 appointments and 50,000 session records, beside
the same pages on a small clinic that holds only what they show, and on an empty one, in the
same run (goal: the big clinic within 1.5x of the small one, whose pages show the same content).

The big clinic is seeded in bulk through the store's models (executemany inserts, not one
request per row; the seeding time is itself a figure): clients with names, emails and phones;
visits over about two years in 10 rooms, each with its own practitioner, on a 30-minute grid
inside the opening hours (no room, practitioner or client booked twice at once); and session
records copied from one real session the recorder wrote (its row, events and telemetry), each on
a past visit of its client. The small clinic is the big one's rows that the pages show, copied
with their ids. SQLite, and PostgreSQL (a schema of its own each, dropped after) where
MICROAMP_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bench.stores import sqlite_url
from bench.web import (
    PASSWORD,
    PG_ENV,
    QUICK,
    SECRET_KEY,
    TLS,
    Load,
    Samples,
    _sample,
    _server,
    _signed_in,
)
from microamp.store.scratch import scratch_schema

GOAL_RATIO = 1.5
ZONE = "Europe/London"
OPENS_H, CLOSES_H = 9, 18  # Monday to Saturday
SLOT_MIN = 30
ROOMS = 10
BATCH = 5_000  # rows per executemany: large enough to be fast, small enough to stay in memory


@dataclass(frozen=True, slots=True)
class Sizes:
    clients: int
    appointments: int
    records: int
    records_of_page_client: int  # the client page measured: a regular with a long history


FULL = Sizes(clients=10_000, appointments=100_000, records=50_000, records_of_page_client=150)
QUICK_SIZES = Sizes(clients=100, appointments=600, records=100, records_of_page_client=10)
FULL_LOAD = Load(concurrency=50, duration_s=10.0)
# the turns each page's load is cut into, the clinics taking turns (`_serve_in_turns`)
ROUNDS = 3

FIRST = ("Olivia Amelia Isla Ava Mia Grace Sophia Lily Freya Emily Ivy Ella Rosie Evie Florence "
         "Poppy Charlotte Willow Isabella Sienna Daisy Elsie Harper Alice Maria Sofia Lucia Chloe "
         "Ana Leila Noah Oliver George Arthur Leo Harry Oscar Jack Charlie Theo Muhammad Henry "
         "Thomas James William Samuel Joshua Daniel Adam Omar").split()  # fmt: skip
LAST = ("Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson "
        "Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner "
        "Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris "
        "Khan Scott Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey "
        "Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Hussain Marshall "
        "Simpson Price Anderson Adams Wilkinson Ali Ahmed Foster Ellis Murphy Chapman Mason Gray "
        "Richards Webb Griffiths Hunt Palmer Campbell Holmes Mills Rogers Barnes Knight Matthews "
        "Barker Powell Stevens Kaur Garcia Fisher Butler Dixon Russell Harvey Pearson Graham").split()  # fmt: skip

# the pages measured, each for the big clinic and the empty one
PAGES = ("day_view", "client_search", "client_page")
KINDS = ("empty", "small", "big")


def _names(rng: random.Random, n: int) -> Iterator[tuple[str, str, str]]:
    """(full name, email, phone) for ``n`` clients: names repeat as in a real town's clinic."""
    for k in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{k}@example.com".lower()
        phone = f"07{rng.randrange(100, 999)} {rng.randrange(100_000, 999_999)}"
        yield f"{first} {last}", email, phone


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(db: Session, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        db.execute(insert(model), batch)


@dataclass(frozen=True, slots=True)
class Clinic:
    """What the pages are measured on: a busy day, a search and the client page's client."""

    day: date
    search: str
    client_id: int


def _set_up(db: Session) -> tuple[list[int], list[int], int, int]:
    """The owner, ten practitioners, ten rooms, one service and the opening hours; returns
    (room ids, practitioner ids, service id, owner id)."""
    from microamp.store.book_setup import add_room, add_service, save_settings
    from microamp.store.crud import create_user
    from microamp.web.security import hash_password

    hours = [[f"{OPENS_H:02d}:00", f"{CLOSES_H:02d}:00"]]
    save_settings(db, name="Bench Clinic", time_zone=ZONE,
                  opening_hours={d: hours for d in ("mon", "tue", "wed", "thu", "fri", "sat")})  # fmt: skip
    owner = create_user(db, email="bench@clinic.example", display_name="Bench", role="owner",
                        password_hash=hash_password(PASSWORD))  # fmt: skip
    staff = [
        create_user(
            db,
            email=f"practitioner{n}@clinic.example",
            display_name=f"Practitioner {n}",
            role="practitioner",
        )  # fmt: skip
        for n in range(1, ROOMS + 1)
    ]
    rooms = [add_room(db, name=f"Room {n}") for n in range(1, ROOMS + 1)]
    service = add_service(db, name="Microcurrent facial", duration_min=SLOT_MIN, buffer_min=0,
                          price_minor=6500, protocol_name="pro-lift")  # fmt: skip
    db.flush()
    return [r.id for r in rooms], [u.id for u in staff], service.id, owner.id


def _clients(db: Session, rng: random.Random, n: int) -> list[int]:
    from microamp.store.models import Client

    now = datetime.now(UTC)
    _insert(db, Client, ({
        "full_name": name, "email": email, "phone": phone,
        "date_of_birth": date(rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29)),
        "concerns": [], "preferred_weekdays": [], "notes": "", "allergies": "", "medications": "",
        "created_at": now,
    } for name, email, phone in _names(rng, n)))  # fmt: skip
    return list(db.scalars(select(Client.id).order_by(Client.id)))


def _open_days(first: date, last: date) -> list[date]:
    days = (first + timedelta(days=k) for k in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 6]


def _slots_of(day: date, zone: ZoneInfo) -> list[datetime]:
    starts = datetime.combine(day, clock(OPENS_H), zone)
    count = (CLOSES_H - OPENS_H) * 60 // SLOT_MIN
    return [(starts + timedelta(minutes=SLOT_MIN * k)).astimezone(UTC) for k in range(count)]


def _visits(
    rng: random.Random, sizes: Sizes, clients: list[int], rooms: list[int], staff: list[int],
    service: int, busy: date, page_client: int,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The visits: ~20 months back and ~4 ahead, spread over the open days, the busy day full.
    Each slot's clients are distinct (nobody in two rooms at once); room n always has
    practitioner n (nobody treats two at once); the page's client comes every fortnight."""
    zone = ZoneInfo(ZONE)
    days = _open_days(busy - timedelta(days=600), busy + timedelta(days=130))
    per_slot = len(rooms)
    capacity = per_slot * len(_slots_of(busy, zone))
    fill = min(1.0, sizes.appointments / (capacity * len(days)))
    now, made = datetime.now(UTC), 0
    for day in days:
        regular = day.toordinal() % 14 == 4  # a Thursday, fortnightly
        for n, starts in enumerate(_slots_of(day, zone)):
            taken = per_slot if day == busy else sum(rng.random() < fill for _ in range(per_slot))
            who = rng.sample(clients, taken)
            if regular and n == 2 and taken and page_client not in who:
                who[0] = page_client
            for room, practitioner, client in zip(rooms, staff, who, strict=False):
                if made == sizes.appointments and day != busy:
                    return
                made += 1
                ends = starts + timedelta(minutes=SLOT_MIN)
                past = ends < now
                state = (rng.choices(("completed", "no_show", "cancelled"), (90, 4, 6))[0]
                         if past else rng.choice(("booked", "confirmed")))  # fmt: skip
                yield {"client_id": client, "on_date": day, "state": state, "service_id": service,
                       "room_id": room, "practitioner_id": practitioner, "starts_at": starts,
                       "ends_at": ends, "clear_at": ends, "checkin": False,
                       "created_at": now, "updated_at": now}  # fmt: skip


def _template_session(url: str, data_dir: Path) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """One real session on the sim device, recorded by the store's recorder with its summary:
    (its record's columns, its events, its telemetry chunks), the shape every copy takes."""
    from bench.sessions import DEVICE_URL, _sixty_minutes
    from microamp.clock import SimulatedClock
    from microamp.devices import open_device
    from microamp.protocols import parse_protocol
    from microamp.safety import get_profile
    from microamp.session import SessionRunner
    from microamp.store import SessionRecorder, StoreSettings, open_store
    from microamp.store.recording import record_summary
    from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession

    profile = get_profile("professional")
    protocol = parse_protocol(_sixty_minutes(1, 1), profile)
    settings = StoreSettings(data_dir=data_dir, database_url=None)
    with open_store(url, settings=settings, upgrade=True) as store:
        with open_device(DEVICE_URL, clock=SimulatedClock(), profile=profile) as device:
            runner = SessionRunner(protocol, device, profile=profile)
            recorder = SessionRecorder.start(
                store, protocol_name=protocol.name, protocol_version=protocol.version,
                protocol_hash=protocol.content_hash(), device_url=DEVICE_URL,
            )  # fmt: skip
            runner.subscribe(recorder)
            runner.subscribe_telemetry(recorder)
            try:
                runner.run()
            finally:
                recorder.close()
            record_summary(store, session_id=recorder.session_id, summary=runner.summary())
        with store.transaction() as db:
            record = db.get(TreatmentSession, recorder.session_id)
            assert record is not None
            columns = {c.key: getattr(record, c.key) for c in TreatmentSession.__table__.columns}
            events = [_row(e) for e in db.scalars(select(SessionEvent).order_by(SessionEvent.seq))]
            chunks = [
                _row(c) for c in db.scalars(select(TelemetryChunk).order_by(TelemetryChunk.seq))
            ]
            db.delete(record)
    return columns, events, chunks


def _row(item: Any) -> dict[str, Any]:
    return {c.key: getattr(item, c.key) for c in type(item).__table__.columns if c.key != "id"}


def _records(
    db: Session, rng: random.Random, sizes: Sizes, template: tuple[dict[str, Any], list[Any], list[Any]],
    page_client: int,
) -> None:  # fmt: skip
    """``sizes.records`` copies of the template on completed past visits (the page's client's
    first), each with its own events and telemetry; the visits point back at their records."""
    from microamp.store.models import Appointment
    from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession

    columns, events, chunks = template
    visits = list(db.execute(
        select(Appointment.id, Appointment.client_id, Appointment.practitioner_id,
               Appointment.starts_at).where(Appointment.state == "completed")))  # fmt: skip
    theirs = [v for v in visits if v.client_id == page_client][: sizes.records_of_page_client]
    others = [v for v in visits if v.client_id != page_client]
    chosen = theirs + rng.sample(others, min(len(others), sizes.records - len(theirs)))
    length = columns["ended_at"] - columns["started_at"]
    base = db.scalar(select(TreatmentSession.id).order_by(TreatmentSession.id.desc()).limit(1)) or 0
    ids = range(base + 1, base + 1 + len(chosen))
    record_rows = (columns | {"id": sid, "client_id": v.client_id, "practitioner_id": v.practitioner_id,
                              "appointment_id": v.id, "started_at": v.starts_at,
                              "ended_at": v.starts_at + length, "last_write_at": v.starts_at + length}
                   for sid, v in zip(ids, chosen, strict=True))  # fmt: skip
    _insert(db, TreatmentSession, record_rows)
    _insert(db, SessionEvent, ({**e, "session_id": sid, "recorded_at": v.starts_at}
                               for sid, v in zip(ids, chosen, strict=True) for e in events))  # fmt: skip
    _insert(db, TelemetryChunk, ({**c, "session_id": sid} for sid in ids for c in chunks))
    links = [{"row": v.id, "sid": sid} for sid, v in zip(ids, chosen, strict=True)]
    table = Appointment.__table__
    from sqlalchemy import bindparam

    statement = (
        update(table)
        .where(table.c.id == bindparam("row"))
        .values(treatment_session_id=bindparam("sid"))
    )
    for batch in _batches(iter(links)):
        db.connection().execute(statement, batch)


def _busy_day() -> date:
    """Today's date, or the next open day: the book opens on today."""
    day = date.today()
    return day if day.weekday() < 6 else day + timedelta(days=1)


def _seed(url: str, data_dir: Path, sizes: Sizes | None) -> tuple[Clinic, dict[str, float]]:
    """The clinic set up, and (``sizes`` given) filled; returns what to measure and the seconds
    each part of seeding took."""
    from microamp.clinic.intake import nothing_to_report
    from microamp.store.crud import create_client, record_intake
    from microamp.web import WebSettings
    from microamp.web.app import open_web_store

    rng = random.Random(14)
    timings: dict[str, float] = {}
    template = _template_session(url, data_dir) if sizes else None
    store = open_web_store(WebSettings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY))
    busy = _busy_day()
    try:
        with store.transaction() as db:
            rooms, staff, service, _owner = _set_up(db)
            born = date(1979, 3, 8)
            # the page's client: screened, so the clinical part of the page shows
            client = create_client(db, full_name="Maria Garcia", date_of_birth=born,
                                   email="maria.garcia@example.com", phone="07700 900123")  # fmt: skip
            record_intake(db, client_id=client.id, answers=nothing_to_report(born),
                          on=date.today(), today=date.today())  # fmt: skip
            page_client = client.id
        if sizes is None:
            return Clinic(day=busy, search="Garcia", client_id=page_client), timings
        started = time.perf_counter()
        with store.transaction() as db:
            clients = _clients(db, rng, sizes.clients)
        timings["clients_s"] = time.perf_counter() - started
        started = time.perf_counter()
        from microamp.store.models import Appointment

        with store.transaction() as db:
            _insert(
                db,
                Appointment,
                _visits(rng, sizes, clients, rooms, staff, service, busy, page_client),
            )
        timings["appointments_s"] = time.perf_counter() - started
        started = time.perf_counter()
        assert template is not None
        with store.transaction() as db:
            _records(db, rng, sizes, template, page_client)
        timings["records_s"] = time.perf_counter() - started
    finally:
        store.close()
    return Clinic(day=busy, search="Garcia", client_id=page_client), timings


def _shown(db: Session, clinic: Clinic) -> dict[Any, Any]:
    """The rows the three pages show, by model, with the conditions that pick them out of the
    big clinic: the busy day's visits and their clients, every client the search finds (the
    store's own search, all its pages), and the page's client's visits and session records with
    their events and telemetry."""
    from microamp.store.client_records import search_clients
    from microamp.store.models import Appointment, Client
    from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession

    found = [c.id for c in search_clients(db, q=clinic.search, limit=1_000_000)]
    on_the_day = select(Appointment.client_id).where(Appointment.on_date == clinic.day)
    theirs = select(TreatmentSession.id).where(TreatmentSession.client_id == clinic.client_id)
    return {
        Client: (Client.id.in_(found) | Client.id.in_(on_the_day)) & (Client.id != clinic.client_id),
        Appointment: (Appointment.on_date == clinic.day) | (Appointment.client_id == clinic.client_id),
        TreatmentSession: TreatmentSession.client_id == clinic.client_id,
        SessionEvent: SessionEvent.session_id.in_(theirs),
        TelemetryChunk: TelemetryChunk.session_id.in_(theirs),
    }  # fmt: skip


def _copy_shown(big_url: str, small_url: str, clinic: Clinic) -> dict[str, int]:
    """Into the small clinic (set up as the big one was, so the ids of its rooms, staff,
    service and page client agree), the rows of the big one that its pages show, ids kept, in
    an order the foreign keys allow; returns how many rows of each table."""
    from sqlalchemy import create_engine

    big, small = create_engine(big_url), create_engine(small_url)
    copied: dict[str, int] = {}
    try:
        with Session(big) as source, Session(small) as target, target.begin():
            for model, where in _shown(source, clinic).items():
                rows = [
                    _row(item) | {"id": item.id}
                    for item in source.scalars(select(model).where(where))
                ]
                _insert(target, model, iter(rows))
                copied[model.__tablename__] = len(rows)
    finally:
        big.dispose()
        small.dispose()
    return copied


def _pages(clinic: Clinic) -> dict[str, str]:
    return {
        "day_view": f"/book?day={clinic.day.isoformat()}",
        "client_search": f"/clients?q={clinic.search}",
        "client_page": f"/clients/{clinic.client_id}",
    }


def _serve_in_turns(
    load: Load, urls: dict[str, str], tmp: Path, clinic: Clinic
) -> dict[str, dict[str, Any]]:
    """Each page's figures on each clinic, their servers up side by side: the load goes to one
    clinic at a time, in ``ROUNDS`` turns a page (the clinics' order turning too), each turn a
    share of ``load.duration_s``, and a page's latencies from all its turns make its figures.
    So a minute in which the machine is slower falls on every clinic alike, not on whichever
    happened to be measured then. One request of each page first, on each, is not counted."""
    rounds = 1 if load.quick else ROUNDS
    turn = Load(concurrency=load.concurrency, duration_s=load.duration_s / rounds,
                quick=load.quick)  # fmt: skip
    pages = _pages(clinic)
    seen = {kind: {name: Samples() for name in pages} for kind in urls}
    with contextlib.ExitStack() as servers:
        bases = {kind: servers.enter_context(_server("app", url, str(tmp / kind), quick=load.quick))
                 for kind, url in urls.items()}  # fmt: skip
        cookies = {kind: _signed_in(base) for kind, base in bases.items()}
        for kind, base in bases.items():
            with httpx.Client(base_url=base, cookies=cookies[kind], verify=TLS, timeout=60) as one:
                for path in pages.values():
                    one.get(path).raise_for_status()
        kinds = list(urls)
        for k in range(rounds):
            for name, path in pages.items():
                for kind in kinds[k % len(kinds) :] + kinds[: k % len(kinds)]:
                    seen[kind][name] += asyncio.run(
                        _sample(turn, bases[kind], path, {}, cookies[kind])
                    )
    return {kind: {name: samples.figures() for name, samples in by_page.items()}
            for kind, by_page in seen.items()}  # fmt: skip


def _compare(
    load: Load, urls: dict[str, str], tmp: Path, sizes: Sizes,
) -> dict[str, Any]:  # fmt: skip
    """Three clinics on one database engine, measured in turns (`_serve_in_turns`): the empty
    one (set up, its one client, no visits), the small one (the rows the pages show and nothing
    else, copied from the big one) and the big one. Against the small one a page shows the same
    content, so the ratio is what the store's size costs; against the empty one it is also
    what rendering that content costs (a full day's 180 visits against none)."""
    for name in urls:
        (tmp / name).mkdir()
    started = time.perf_counter()
    clinic, timings = _seed(urls["big"], tmp / "big", sizes)
    big: dict[str, Any] = {"seed_s": time.perf_counter() - started, **timings}
    _seed(urls["small"], tmp / "small", None)
    small: dict[str, Any] = {"rows": _copy_shown(urls["big"], urls["small"], clinic)}
    _seed(urls["empty"], tmp / "empty", None)
    served = _serve_in_turns(load, urls, tmp, clinic)
    empty, small, big = served["empty"], small | served["small"], big | served["big"]
    return {
        "empty": empty, "small": small, "big": big,
        "p95_ratio": {name: big[name]["p95_ms"] / small[name]["p95_ms"] for name in PAGES},
        "p95_ratio_to_empty": {name: big[name]["p95_ms"] / empty[name]["p95_ms"] for name in PAGES},
    }  # fmt: skip


def _on_sqlite(load: Load, sizes: Sizes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        urls = {kind: sqlite_url(tmp / f"{kind}.db", load.quick) for kind in KINDS}
        (tmp / "sqlite").mkdir()
        return _compare(load, urls, tmp / "sqlite", sizes)


def _on_postgresql(load: Load, sizes: Sizes) -> dict[str, Any]:
    pg = os.environ.get(PG_ENV)
    if not pg:
        return {"skipped": f"{PG_ENV} is not set"}
    with tempfile.TemporaryDirectory() as name, contextlib.ExitStack() as schemas:
        urls = {kind: schemas.enter_context(scratch_schema(pg, prefix="bench")) for kind in KINDS}
        return _compare(load, urls, Path(name), sizes)


def run(quick: bool = False) -> dict[str, Any]:
    sizes, load = (QUICK_SIZES, QUICK) if quick else (FULL, FULL_LOAD)
    result: dict[str, Any] = {
        "clients": sizes.clients, "appointments": sizes.appointments, "records": sizes.records,
        "records_of_page_client": sizes.records_of_page_client,
        "concurrency": load.concurrency, "duration_s": load.duration_s, "goal_ratio": GOAL_RATIO,
    }  # fmt: skip
    if quick:
        # a smoke run of the same paths, its figures not for quoting: the two engines side by
        # side, their servers in processes of their own
        with ThreadPoolExecutor(max_workers=1) as pool:
            on_postgresql = pool.submit(_on_postgresql, load, sizes)
            result["sqlite"] = _on_sqlite(load, sizes)
            result["postgresql"] = on_postgresql.result()
    else:  # one engine at a time, so neither's figures carry the other's load
        result["sqlite"] = _on_sqlite(load, sizes)
        result["postgresql"] = _on_postgresql(load, sizes)
    return {"clinic": result}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, default=str))
