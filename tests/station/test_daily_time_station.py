"""The home profile's time in a day at the station's start, the door every device start of a
client passes (the console, the API, the home app's device mode): on the simulator, her
guided minutes and her device sessions count together, and a start past the day's 20 minutes
is refused naming the routine and the rule before any record or current; two stations starting
her at the same moment are counted one after the other."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from microamp.clock import SimulatedClock
from microamp.errors import InvalidValue
from microamp.station import LiveSession, LiveSessions, StartRequest
from microamp.store import Store, StoreSettings, open_store
from microamp.store.base import utc_now
from microamp.store.daily_time import client_day, seconds_used_on
from microamp.store.home_models import HomeAccount, HomeSession
from microamp.store.session_models import TreatmentSession
from station.test_station_loop import cleared_client

DEVICE = "sim://?load=gel"


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Store:
    return open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True)


def _home_account_with_guided(store: Store, client_id: int, day: date, seconds: float) -> None:
    with store.transaction() as db:
        account = HomeAccount(client_id=client_id, display_name="Ana Lima", password_hash="x",
                              skipped=[], zone_levels={}, plan_start=day)  # fmt: skip
        db.add(account)
        db.flush()
        db.add(HomeSession(uuid="guided-0001", account_id=account.id, client_id=client_id,
                           protocol_name="home-express", protocol_hash="", mode="guided",
                           on_date=day, seconds_done=seconds, steps_done=[],
                           status="completed", cues=0))  # fmt: skip


def _records(store: Store) -> int:
    with store.session() as db:
        return int(db.scalar(select(func.count()).select_from(TreatmentSession)) or 0)


def test_device_sessions_and_guided_minutes_share_her_daily_limit_at_the_station(
    store: Store,
) -> None:
    sessions = LiveSessions(store=store)
    try:
        client_id, practitioner_id = cleared_client(store)
        with store.session() as db:
            today = client_day(db, now=utc_now())
        _home_account_with_guided(store, client_id, today, 12 * 60)
        request = StartRequest(client_id, "Ana Lima", "home-express", DEVICE, 1.0,
                               practitioner_id)  # fmt: skip
        first = sessions.start(request, on=today, clock=SimulatedClock())
        assert first.wait(300) and str(first.runner.status) == "completed"
        with store.session() as db:
            used = seconds_used_on(db, client_id=client_id, day=today)
        assert used > 12 * 60 + 4 * 60  # the device session counted by what it delivered
        with pytest.raises(InvalidValue) as refused:
            sessions.start(request, on=today, clock=SimulatedClock())
        assert refused.value.field == "routine"
        assert "of today's 20 min are used" in refused.value.rule
        assert _records(store) == 1  # the refused start opened no record
    finally:
        sessions.shutdown()
        store.close()


def test_a_clinic_client_without_a_home_account_runs_back_to_back(store: Store) -> None:
    sessions = LiveSessions(store=store)
    try:
        client_id, practitioner_id = cleared_client(store)
        request = StartRequest(client_id, "Ana Lima", "home-express", DEVICE, 1.0,
                               practitioner_id)  # fmt: skip
        for _ in range(2):
            live = sessions.start(request, on=date.today(), clock=SimulatedClock())
            assert live.wait(300) and str(live.runner.status) == "completed"
    finally:
        sessions.shutdown()
        store.close()


def _start_together(
    store: Store, requests: list[StartRequest], on: date
) -> tuple[list[object], list[LiveSessions]]:
    """Each request started by its own station at the same moment: the session or the refusal."""
    stations = [LiveSessions(store=store) for _ in requests]
    barrier = threading.Barrier(len(requests))
    outcomes: list[object] = [None] * len(requests)

    def start(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = stations[i].start(requests[i], on=on, clock=SimulatedClock())
        except InvalidValue as refused:
            outcomes[i] = refused

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes, stations


@pytest.mark.parametrize("attempt", range(3))
def test_two_stations_starting_her_at_once_never_both_pass_her_day(
    store: Store, attempt: int
) -> None:
    """Two devices in one household: each routine fits what is left of her day alone, the two
    together do not. Started at the same moment, one runs and the other is refused, and her day
    stays within the 20 minutes."""
    client_id, practitioner_id = cleared_client(store)
    with store.session() as db:
        today = client_day(db, now=utc_now())
    _home_account_with_guided(store, client_id, today, 12 * 60)
    requests = [
        StartRequest(client_id, "Ana Lima", "home-express", url, 1.0, practitioner_id)
        for url in ("sim://?load=gel&id=bathroom", "sim://?load=gel&id=bedroom")
    ]
    outcomes, stations = _start_together(store, requests, today)
    try:
        refused = [o for o in outcomes if isinstance(o, InvalidValue)]
        running = [o for o in outcomes if isinstance(o, LiveSession)]
        assert (len(running), len(refused)) == (1, 1), outcomes
        assert refused[0].field == "routine" and "of today's 20 min are used" in refused[0].rule
        assert _records(store) == 1  # the refused start opened no record
        with store.session() as db:
            assert seconds_used_on(db, client_id=client_id, day=today) <= 20 * 60
        assert running[0].wait(300) and str(running[0].runner.status) == "completed"
    finally:
        for sessions in stations:
            sessions.shutdown()
        store.close()
