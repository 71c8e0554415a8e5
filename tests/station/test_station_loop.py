"""A station in this process on a real store: it answers a start with a session under way, and
when the store fails under it (a table gone) it stops output at once, since it can no longer
hear Stop, instead of running on until its lease lapses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from microamp.clinic.intake import nothing_to_report
from microamp.station import StartRequest, Station, StoreSessions
from microamp.store import Store, StoreSettings, open_store
from microamp.store.crud import create_client, create_user, record_consent, record_intake


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    with open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True) as s:
        yield s


def cleared_client(store: Store) -> tuple[int, int]:
    """A client who may be treated, and a practitioner: their ids."""
    born = date(1988, 4, 12)
    with store.transaction() as db:
        user = create_user(db, email="p@test.example", display_name="P", role="practitioner",
                           password_hash="x")  # fmt: skip
        client = create_client(db, full_name="Ana Lima", date_of_birth=born)
        record_intake(db, client_id=client.id, answers=nothing_to_report(born), on=date.today(),
                      today=date.today())  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Ana Lima")
        return client.id, user.id


def test_a_station_that_loses_the_store_stops_output_at_once(store: Store) -> None:
    station = Station(store, name="Room 1", device_url="sim://?load=gel", speed=1.0)
    station.start()
    try:
        sessions = StoreSessions(store, ring=station.ring)
        client_id, practitioner_id = cleared_client(store)
        request = StartRequest(client_id, "Ana Lima", "home-express", "sim://?load=gel", 1.0,
                               practitioner_id)  # fmt: skip
        remote = sessions.start(request, on=date.today())
        local = station.sessions.get(remote.id)
        assert local is not None
        deadline = time.monotonic() + 30
        while str(local.runner.snapshot().status) != "running":
            assert time.monotonic() < deadline, "the session never ran"
            time.sleep(0.05)
        with store.transaction() as db:
            db.execute(text("DROP TABLE station_controls"))
        lost_at = time.monotonic()
        assert local.wait(5), "the session ran on without the store"
        stopped_after_s = time.monotonic() - lost_at
    finally:
        station.stop()
    assert local.summary is not None and str(local.summary.status) == "stopped"
    assert stopped_after_s < 2.0  # one poll of the station, then one tick of the runner
