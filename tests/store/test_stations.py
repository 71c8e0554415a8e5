"""Stations in the store: one station per name and per device while online; a control is
taken once and never after its operator gave up on it; the sweep ends the session of a silent
station and closes the record of a lapsed lease as interrupted, with its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.store import SessionRecorder, Store
from microamp.store.leases import Lease, acquire, attach
from microamp.store.records import get_session_record
from microamp.store.station_models import LiveState
from microamp.store.stations import (
    STALE_S,
    abandon_control,
    answer_control,
    control_answer,
    list_stations,
    live_messages,
    live_row,
    open_live,
    register_station,
    request_control,
    station_beat,
    sweep,
    take_control,
)

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def register(store: Store, name: str, holder: str, when: float = 0, device: str = "sim://") -> None:
    with store.transaction() as db:
        register_station(db, name=name, device_url=device, device=device, capabilities={},
                         holder=holder, now=at(when))  # fmt: skip


def test_a_station_is_online_while_it_beats_and_its_device_has_one_online_owner(
    store: Store,
) -> None:
    register(store, "Room 1", "h1")
    with pytest.raises(InvalidValue, match="owns it"):
        register(store, "Room 2", "h2", when=1)
    with pytest.raises(InvalidValue, match="online"):
        register(store, "Room 1", "h2", when=1)
    with store.transaction() as db:
        assert station_beat(db, name="Room 1", holder="h1", now=at(3), live_id="abc")
        assert not station_beat(db, name="Room 1", holder="h2", now=at(3), live_id=None)
        (room,) = list_stations(db, now=at(3 + STALE_S))
        assert room.online and room.busy and room.live_id == "abc"
        (room,) = list_stations(db, now=at(3 + STALE_S + 0.1))
        assert not room.online and not room.busy
    register(store, "Room 2", "h2", when=3 + STALE_S + 0.1)  # the silent one's device is free


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(["station-a", "station-b", "operator gives up"]))
def test_a_control_is_taken_once_and_never_after_its_operator_gave_up(
    store: Store, order: list[str]
) -> None:
    with store.transaction() as db:
        control = request_control(db, station="Room 1", live_id="x", action="stop", value={},
                                  operator=("Ana", 1, "web"), now=T0)  # fmt: skip
    winners = []
    for who in order:
        with store.transaction() as db:
            won = (
                abandon_control(db, control, now=T0, message="no answer")
                if who == "operator gives up"
                else take_control(db, control, now=T0)
            )
        if won:
            winners.append(who)
    assert winners == [order[0]]
    with store.session() as db:
        answer = control_answer(db, control)
    assert answer.taken
    assert (answer.ok is False) == (order[0] == "operator gives up")


def test_an_answer_says_what_the_station_did(store: Store) -> None:
    with store.transaction() as db:
        control = request_control(db, station="Room 1", live_id="x", action="level",
                                  value={"level": 2}, operator=("Ana", 1, "api"), now=T0)  # fmt: skip
        assert control_answer(db, control).ok is None
        assert take_control(db, control, now=T0)
        answer_control(db, control, ok=False, now=T0, message="level: 2 is not allowed",
                       answer={"error": "invalid"})  # fmt: skip
        answer = control_answer(db, control)
    assert (answer.ok, answer.message, answer.answer) == (
        False, "level: 2 is not allowed", {"error": "invalid"},
    )  # fmt: skip


def _live(record_id: int) -> LiveState:
    return LiveState(id="live1", station="Room 1", client_id=1, client_name="Ana",
                     protocol="home-express", device_url="sim://", intensity=1.0,
                     practitioner_id=None, practitioner_max_ua=None, record_id=record_id,
                     status="running", state={"status": "running"}, done=False, error="",
                     message_count=0, started_at=T0, updated_at=T0)  # fmt: skip


def test_the_sweep_ends_an_unwritten_session_and_interrupts_its_lapsed_lease(
    store: Store,
) -> None:
    register(store, "Room 1", "h1")
    recorder = SessionRecorder.start(store, protocol_name="lift", device_url="sim://?load=gel")
    recorder.record_event({"kind": "step_started", "t_s": 0.5, "step": 0})
    with store.transaction() as db:
        lease = acquire(db, device="sim://", holder="elsewhere:1:x", ttl_s=10, now=T0)
        assert isinstance(lease, Lease)
        attach(db, lease, session_id=recorder.session_id)
        open_live(db, _live(recorder.session_id))
    with store.transaction() as db:
        assert sweep(db, now=at(STALE_S)) == {"ended": [], "interrupted": []}
    with store.transaction() as db:  # a station of that name, restarted, beats again
        assert station_beat(db, name="Room 1", holder="h1", now=at(9), live_id=None)
        swept = sweep(db, now=at(10))
    assert swept == {"ended": ["live1"], "interrupted": [recorder.session_id]}
    with store.session() as db:
        live = live_row(db, "live1")
        assert live is not None and live.done and "stopped answering" in live.error
        ((_seq, name, data),) = live_messages(db, "live1", 0)
        assert name == "end" and data["status"] == "interrupted"
        record = get_session_record(db, session_id=recorder.session_id)
        kinds = [e.kind for e in record.events]
    assert record.status == "interrupted"
    assert kinds == ["step_started", "interrupted"]
    with store.transaction() as db:
        assert sweep(db, now=at(20)) == {"ended": [], "interrupted": []}
