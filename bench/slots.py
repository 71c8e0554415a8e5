"""Online booking's free slots: a month of them for one service (`free_slots_between`, as
`GET /api/v1/public/slots?days=31` asks), in a clinic of 5 rooms and 10 practitioners with
10,000 appointments, beside the same ask on the same clinic with an empty book, the two taken in
turns in one run (goal: p95 under 100 ms and within 2x of the empty book).

The appointments are inserted in bulk on an hour grid (45 minutes and a 15-minute buffer, so a
room is held the whole hour), Monday to Saturday 09:00-18:00, four cells in five filled, one in
ten cancelled, from months before the asked month to days after it, each room's practitioner
changing by the day. SQLite, and PostgreSQL (a schema of its own, dropped after) where
MICROAMP_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.stores import sqlite_url

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
GOAL_MS, GOAL_RATIO = 100.0, 2.0
ROOMS, PRACTITIONERS = 5, 10
ZONE = "Europe/London"
MONTH = date(2027, 3, 1)  # the asked month's first day: a Monday
DAYS = 31
HOURS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
FULL = {"appointments": 10_000, "repeats": 100}
QUICK = {"appointments": 500, "repeats": 3}


def _seed_clinic(session: Any) -> tuple[int, list[int], list[int], int]:
    """The clinic's settings, rooms, practitioners and one 45-minute service."""
    from microamp.store.book_setup import add_room, add_service, save_settings
    from microamp.store.crud import create_client, create_user

    save_settings(session, name="Bench clinic", time_zone=ZONE, opening_hours=HOURS)
    rooms = [add_room(session, name=f"Room {i + 1}").id for i in range(ROOMS)]
    people = [
        create_user(session, email=f"p{i}@bench.example", display_name=f"P{i}").id
        for i in range(PRACTITIONERS)
    ]
    service = add_service(session, name="Facial", duration_min=45, buffer_min=15).id
    client = create_client(session, full_name="Bench Client", date_of_birth=date(1980, 1, 1)).id
    return service, rooms, people, client


def _book_in_bulk(
    session: Any, n: int, *, service: int, rooms: list[int], people: list[int], client: int
) -> int:
    """``n`` appointments on the hour grid, ending a few days into the asked month's end."""
    from microamp.store.models import Appointment

    zone = ZoneInfo(ZONE)
    rng = random.Random(7)
    day = MONTH + timedelta(days=DAYS + 5)
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        day -= timedelta(days=1)
        if day.weekday() == 6:
            continue
        for r, room in enumerate(rooms):
            who = people[(r + day.toordinal()) % len(people)]
            for hour in range(9, 18):
                if rng.random() >= 0.8 or len(rows) >= n:
                    continue
                start = datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
                rows.append({
                    "client_id": client, "service_id": service, "room_id": room,
                    "practitioner_id": who, "on_date": day, "checkin": False,
                    "state": "cancelled" if rng.random() < 0.1 else "booked",
                    "starts_at": start, "ends_at": start + timedelta(minutes=45),
                    "clear_at": start + timedelta(minutes=60),
                })  # fmt: skip
    session.execute(insert(Appointment), rows)
    return len(rows)


def _ask_ms(store: Any, service: int) -> float:
    from microamp.store.slots import free_slots_between

    now = datetime(2027, 2, 26, 12, tzinfo=UTC)
    with store.session() as session:
        started = time.perf_counter()
        found = free_slots_between(session, service_id=service, first=MONTH,
                                   last=MONTH + timedelta(days=DAYS - 1), now=now)  # fmt: skip
        elapsed = (time.perf_counter() - started) * 1000
    assert found, "the month has free slots"
    return elapsed


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _compare(urls: dict[str, str], data_dir: Path, sizes: dict[str, int]) -> dict[str, Any]:
    from microamp.store import StoreSettings, open_store

    stores, services, seeded = {}, {}, 0
    with contextlib.ExitStack() as stack:
        for kind, url in urls.items():
            settings = StoreSettings(data_dir=data_dir / kind, database_url=None)
            store = stack.enter_context(open_store(url, settings=settings, upgrade=True))
            with store.transaction() as session:
                service, rooms, people, client = _seed_clinic(session)
                if kind == "full":
                    seeded = _book_in_bulk(session, sizes["appointments"], service=service,
                                           rooms=rooms, people=people, client=client)  # fmt: skip
            stores[kind], services[kind] = store, service
        # the seeding's objects are the bench's, not a server's: moved out of the collector's
        # reach, so its full collections scan what an ask leaves, as in a worker
        gc.collect()
        gc.freeze()
        times: dict[str, list[float]] = {kind: [] for kind in urls}
        for kind in urls:  # a warm-up ask each: caches, the first query plans
            _ask_ms(stores[kind], services[kind])
        for _ in range(sizes["repeats"]):
            for kind in urls:  # in turns, so a slower moment falls on both
                times[kind].append(_ask_ms(stores[kind], services[kind]))
    figures: dict[str, Any] = {
        kind: {"p50_ms": round(statistics.median(v), 2), "p95_ms": round(_p(v, 0.95), 2)}
        for kind, v in times.items()
    }
    figures["appointments"] = seeded
    figures["p95_ratio"] = round(figures["full"]["p95_ms"] / figures["empty"]["p95_ms"], 2)
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    from microamp.store.scratch import scratch_schema

    sizes = QUICK if quick else FULL
    result: dict[str, Any] = {
        "rooms": ROOMS, "practitioners": PRACTITIONERS, "days": DAYS,
        "repeats": sizes["repeats"], "goal_ms": GOAL_MS, "goal_ratio": GOAL_RATIO,
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        urls = {kind: sqlite_url(tmp / f"{kind}.db", quick) for kind in ("full", "empty")}
        result["sqlite"] = _compare(urls, tmp, sizes)
    pg = os.environ.get(PG_ENV)
    if not pg:
        result["postgresql"] = {"skipped": f"{PG_ENV} is not set"}
        return {"slots": result}
    with tempfile.TemporaryDirectory() as name, contextlib.ExitStack() as schemas:
        urls = {
            k: schemas.enter_context(scratch_schema(pg, prefix="bench")) for k in ("full", "empty")
        }
        result["postgresql"] = _compare(urls, Path(name), sizes)
    return {"slots": result}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
