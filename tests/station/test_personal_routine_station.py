"""Her own routine at the station: a start names the routine and carries what she skips and
her zone levels; the station rebuilds the routine from the library or her stored routine and
validates it under the home profile, so nothing the web tier sends can take current past the
home limits. The record says which routine ran and what was left out; a start through the
store (a station in this process) carries the same, and every worker shows her routine."""

from __future__ import annotations

import copy
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from microamp.clock import SimulatedClock
from microamp.errors import InvalidValue
from microamp.protocols.home_routines import Personalisation, RoutinePick, build_routine
from microamp.protocols.library import load_protocol
from microamp.safety.limits import get_profile
from microamp.session import Operator
from microamp.station import LiveSessions, StartRequest, Station, StoreSessions
from microamp.store import Store, StoreSettings, open_store
from microamp.store.home import personal_protocol
from microamp.store.home_models import HomeAccount, HomeRoutine
from microamp.store.session_models import SessionEvent, TreatmentSession
from station.test_station_loop import cleared_client

DEVICE = "sim://?load=gel"
HOME = get_profile("home")


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Store:
    return open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True)


def _routine_data() -> dict[str, Any]:
    picks = [RoutinePick("platysma", 1, 5.0), RoutinePick("procerus", 2, 5.0),
             RoutinePick("masseter", 1, 5.0)]  # fmt: skip
    built = build_routine(name="my-quick", title="My quick", picks=picks, cue_interval_s=5.0,
                          profile=HOME)  # fmt: skip
    return built.model_dump(mode="json", exclude_none=True)


def _her_account(store: Store, client_id: int, data: dict[str, Any] | None = None) -> None:
    with store.transaction() as db:
        account = HomeAccount(client_id=client_id, display_name="Ana Lima", password_hash="x",
                              skipped=[], zone_levels={}, plan_start=date.today())  # fmt: skip
        db.add(account)
        db.flush()
        db.add(HomeRoutine(account_id=account.id, name="my-quick", data=data or _routine_data()))


def _records(store: Store) -> list[TreatmentSession]:
    with store.session() as db:
        rows = list(db.scalars(select(TreatmentSession)))
        db.expunge_all()
        return rows


def _started_zones(store: Store, record_id: int) -> list[str]:
    with store.session() as db:
        events = db.scalars(
            select(SessionEvent).where(
                SessionEvent.session_id == record_id, SessionEvent.kind == "step_started"
            )
        )
        return [str(e.data["zone"]) for e in events]


def test_her_built_routine_runs_without_her_skipped_zone_and_the_record_says_so(
    store: Store,
) -> None:
    sessions = LiveSessions(store=store)
    try:
        client_id, practitioner_id = cleared_client(store)
        _her_account(store, client_id)
        personal = Personalisation.of(["jawline"], {"brows": 0.5})
        with store.session() as db:
            expected, _kept = personal_protocol(db, client_id=client_id, name="my-quick",
                                                personal=personal)  # fmt: skip
        request = StartRequest(client_id, "Ana Lima", "my-quick", DEVICE, 1.0, practitioner_id,
                               personal=personal)  # fmt: skip
        live = sessions.start(request, on=date.today(), clock=SimulatedClock())
        assert live.wait(120) and str(live.runner.status) == "completed"
    finally:
        sessions.shutdown()
    (record,) = _records(store)
    assert record.protocol_name == "my-quick"
    assert record.protocol_hash == expected.content_hash()
    assert record.personalisation == {
        "routine": "my-quick", "title": "My quick", "source": "mine", "skipped": ["jawline"],
        "skipped_steps": ["Masseter"], "skipped_positions": [2], "zone_levels": {"brows": 0.5},
    }  # fmt: skip
    zones = _started_zones(store, record.id)
    assert "jawline" not in zones and set(zones) == {"neck", "brows"}
    store.close()


def _refused(store: Store, request: StartRequest, match: str) -> InvalidValue:
    sessions = LiveSessions(store=store)
    try:
        with pytest.raises(InvalidValue, match=match) as refused:
            sessions.start(request, on=date.today(), clock=SimulatedClock())
    finally:
        sessions.shutdown()
    assert _records(store) == []  # no record opened, no current
    return refused.value


def test_a_stored_routine_past_the_home_limits_is_refused_at_the_station(store: Store) -> None:
    client_id, practitioner_id = cleared_client(store)
    data = copy.deepcopy(_routine_data())
    data["defaults"]["waveform"]["amplitude_ua"] = 2000.0  # written past the builder
    _her_account(store, client_id, data)
    request = StartRequest(client_id, "Ana Lima", "my-quick", DEVICE, 1.0, practitioner_id,
                           personal=Personalisation())  # fmt: skip
    refused = _refused(store, request, "exceeds 400 µA: the home profile's max_amplitude_ua")
    assert refused.field == "defaults.waveform.amplitude_ua"
    store.close()


def test_a_start_for_a_routine_that_is_not_hers_or_not_a_home_routine_is_refused(
    store: Store,
) -> None:
    client_id, practitioner_id = cleared_client(store)
    _her_account(store, client_id)
    personal = Personalisation()
    assert load_protocol("pro-lift").audience == "professional"
    for name, rule in (("my-other", "no home routine of hers"),
                       ("pro-lift", "a personalised routine is a home routine")):  # fmt: skip
        request = StartRequest(client_id, "Ana Lima", name, DEVICE, 1.0, practitioner_id,
                               personal=personal)  # fmt: skip
        assert _refused(store, request, rule).field == "protocol"
    store.close()


def test_a_routine_that_is_not_the_one_she_saw_is_refused(store: Store) -> None:
    client_id, practitioner_id = cleared_client(store)
    _her_account(store, client_id)
    seen = Personalisation.of(["jawline"], {}, content_hash="0" * 64)
    request = StartRequest(client_id, "Ana Lima", "my-quick", DEVICE, 1.0, practitioner_id,
                           personal=seen)  # fmt: skip
    assert _refused(store, request, "reload").field == "personal.content_hash"
    # skipping every zone of it leaves nothing to run
    every = Personalisation.of(["neck", "brows", "jawline"], {})
    request = StartRequest(client_id, "Ana Lima", "my-quick", DEVICE, 1.0, practitioner_id,
                           personal=every)  # fmt: skip
    assert _refused(store, request, "leaves no step").field == "skipped"
    store.close()


@pytest.mark.parametrize(
    ("personal", "field"),
    [
        ({"skipped": ["the-heart"]}, "personal.skipped"),
        ({"skipped": "neck"}, "personal.skipped"),
        ({"zone_levels": {"neck": 1.5}}, "personal.zone_levels.neck"),
        ({"zone_levels": {"neck": 0}}, "personal.zone_levels.neck"),
        ({"zone_levels": {"neck": True}}, "personal.zone_levels.neck"),
        ({"zone_levels": {"scalp": 0.5}}, "personal.zone_levels.scalp"),
        ({"content_hash": 7}, "personal.content_hash"),
        ("everything", "personal"),
    ],
)
def test_a_start_request_with_a_malformed_personalisation_is_refused_naming_the_field(
    personal: object, field: str
) -> None:
    data = StartRequest(1, "Ana Lima", "my-quick", DEVICE, 1.0, 2).to_dict() | {
        "personal": personal
    }
    with pytest.raises(InvalidValue) as refused:
        StartRequest.from_dict(data)
    assert refused.value.field == field


def test_a_start_through_the_store_carries_her_choices_to_the_station(store: Store) -> None:
    station = Station(store, name="Home", device_url=DEVICE, speed=8.0)
    station.start()
    try:
        sessions = StoreSessions(store, ring=station.ring)
        client_id, practitioner_id = cleared_client(store)
        _her_account(store, client_id)
        chosen = Personalisation.of(["jawline"], {"neck": 0.6})
        with store.session() as db:
            shown, _kept = personal_protocol(db, client_id=client_id, name="my-quick",
                                             personal=chosen)  # fmt: skip
        personal = Personalisation.of(["jawline"], {"neck": 0.6}, shown.content_hash())
        request = StartRequest(client_id, "Ana Lima", "my-quick", DEVICE, 1.0, practitioner_id,
                               personal=personal)  # fmt: skip
        assert StartRequest.from_dict(request.to_dict()) == request
        remote = sessions.start(request, on=date.today())
        assert remote.request.personal == personal
        # every worker draws her routine: two steps, no jawline
        assert [s.zone for s in remote.planned()] == ["neck", "brows"]
        # and still draws the run once she has changed the routine since, on any worker
        with store.transaction() as db:
            row = db.scalars(select(HomeRoutine)).one()
            changed = copy.deepcopy(row.data)
            changed["steps"] = changed["steps"][1:]
            row.data = changed
        assert [s.zone for s in remote.planned()] == ["neck", "brows"]
        assert [s.zone for s in sessions.get(remote.id).planned()] == ["neck", "brows"]
        deadline = time.monotonic() + 30
        while remote.state().get("status") != "running":
            assert time.monotonic() < deadline, "the session never ran"
            time.sleep(0.05)
        assert remote.state()["steps_total"] == 2
        remote.control("stop", _operator(practitioner_id))
        assert remote.wait(10)
    finally:
        station.stop()
    (record,) = _records(store)
    assert record.personalisation["skipped_steps"] == ["Masseter"]
    with store.session() as db:
        count = db.scalar(select(func.count()).select_from(TreatmentSession))
    assert count == 1
    store.close()


def _operator(user_id: int) -> Operator:
    return Operator("P", user_id, "web")
