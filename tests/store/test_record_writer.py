"""The record writer: the runner hands events and telemetry to a thread and never waits on the
store; whatever the store does meanwhile (answers, refuses, loses the answer of a write it
committed), the record plus the journal's hand-over hold every event exactly once, in order."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from microamp.clock import PacedClock
from microamp.devices import open_device
from microamp.devices.base import TelemetryFrame
from microamp.protocols.library import load_protocol
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import get_profile
from microamp.session import SessionRunner
from microamp.station import LiveSessions, StartRequest
from microamp.store import Store, StoreSettings, open_store
from microamp.store.journal import hand_over_all
from microamp.store.record_writer import RecordWriter
from microamp.store.recording import SessionRecorder
from station.test_station_journal import stored
from station.test_station_loop import cleared_client

DEVICE = "sim://?load=gel"
Outcome = str  # "ok", "refused" (the link is down), "lost" (committed, the answer lost)


class FlakyEngine:
    """The real engine, but each `begin` takes the next outcome: a link that refuses the write,
    or one that commits it and loses the answer (both raise what a lost link raises)."""

    def __init__(self, engine: Engine, outcomes: list[Outcome]) -> None:
        self.engine = engine
        self.outcomes = list(outcomes)

    @contextmanager
    def begin(self) -> Iterator[Any]:
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "refused":
            raise OperationalError("BEGIN", {}, ConnectionRefusedError("the store is away"))
        with self.engine.begin() as connection:
            yield connection
        if outcome == "lost":
            raise OperationalError("COMMIT", {}, ConnectionResetError("the answer was lost"))


class FlakyStore:
    """What a recorder writes through: the store, with a `FlakyEngine`."""

    def __init__(self, store: Store, outcomes: list[Outcome]) -> None:
        self.settings = store.settings
        self.engine = FlakyEngine(store.engine, outcomes)
        self.transaction = store.transaction


def frame(t_s: float) -> TelemetryFrame:
    return TelemetryFrame(t_s=t_s, commanded_ua=100.0, delivered_ua=99.0, peak_ua=140.0,
                          voltage_v=1.0, impedance_ohm=5000.0)  # fmt: skip


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("writer")
    # chunks every half second of device time: the runs below write several
    settings = StoreSettings(data_dir=root, telemetry_flush_s=0.5)
    return open_store(f"sqlite:///{root / 'records.db'}", settings=settings, upgrade=True)


steps = st.lists(
    st.tuples(st.sampled_from(["event", "frames", "pause"]), st.integers(1, 12)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, outcomes=st.lists(st.sampled_from(["ok", "refused", "lost"]), max_size=12))
def test_any_interleaving_of_writes_and_store_failures_keeps_every_event_once_in_order(
    sqlite_store: Store, steps: list[tuple[str, int]], outcomes: list[Outcome]
) -> None:
    recorder = SessionRecorder.start(sqlite_store, protocol_name="lift", journaled=True)
    recorder.store = cast(Store, FlakyStore(sqlite_store, outcomes))
    faults: list[Fault] = []
    writer = RecordWriter(recorder, on_fault=faults.append)
    emitted: list[tuple[str, float]] = []
    t_s = 0.0
    for what, n in steps:
        if what == "pause":  # the writer catches up (or not): batches of every size
            time.sleep(n / 2000)
            continue
        for _ in range(n):
            t_s += 0.05
            if what == "event":
                emitted.append(("cue", round(t_s, 6)))
                writer.event({"kind": "cue", "t_s": t_s, "text": "Move on"})
            else:
                writer.telemetry(frame(t_s))
    emitted.append(("ended", round(t_s + 0.05, 6)))
    writer.event({"kind": "ended", "t_s": t_s + 0.05, "status": "stopped", "reason": "test"})
    assert writer.close(30)
    hand_over_all(sqlite_store)

    events, chunks, status = stored(sqlite_store, recorder.session_id)
    assert not faults and writer.error == ""
    assert [(kind, round(at, 6)) for _seq, kind, at in events] == emitted
    assert [seq for seq, _kind, _at in events] == list(range(len(emitted)))
    assert [seq for seq, _end in chunks] == list(range(len(chunks)))
    assert status == "stopped"
    assert not recorder.journal or not recorder.journal.pending


def test_a_writer_behind_its_bound_raises_one_record_fault_and_still_writes_everything(
    sqlite_store: Store,
) -> None:
    recorder = SessionRecorder.start(sqlite_store, protocol_name="lift")
    faults: list[Fault] = []
    writer = RecordWriter(recorder, max_lag_s=0.3, on_fault=faults.append)
    with sqlite_locked(sqlite_store, hold_s=1.0):
        for n in range(20):
            writer.event({"kind": "cue", "t_s": n * 0.05})
            time.sleep(0.05)  # the runner goes on: 1 s of events while the store is locked
    writer.event({"kind": "ended", "t_s": 1.0, "status": "aborted"})
    assert writer.close(30)

    assert [f.code for f in faults] == [FaultCode.RECORD_FAILED]
    assert "behind" in faults[0].detail["reason"]
    events, _chunks, status = stored(sqlite_store, recorder.session_id)
    assert [kind for _seq, kind, _at in events] == ["cue"] * 20 + ["ended"]
    assert status == "aborted"


@contextmanager
def sqlite_locked(store: Store, *, hold_s: float) -> Iterator[None]:
    """Another connection holds the SQLite file's write lock for ``hold_s`` from now (in a
    thread), as another process's long transaction would; the body runs meanwhile."""
    path = str(store.engine.url.database)
    taken = threading.Event()

    def hold() -> None:
        lock = sqlite3.connect(path, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        taken.set()
        time.sleep(hold_s)
        lock.execute("COMMIT")
        lock.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        holder.join(hold_s + 10)


def test_a_fault_from_outside_the_runner_zeroes_output_and_aborts_the_session() -> None:
    protocol = load_protocol("pro-express")
    profile = get_profile(protocol.audience)
    device = open_device(DEVICE, clock=PacedClock(50.0), profile=profile)
    runner = SessionRunner(protocol, device, profile=profile)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not device.output_on:
        assert time.monotonic() < deadline, "output never came on"
        time.sleep(0.005)
    runner.fault(Fault.of(FaultCode.RECORD_FAILED, detail={"reason": "test"}))
    thread.join(30)

    assert str(runner.status) == "aborted" and not device.output_on
    raised = [e for e in runner.events if e.kind == "fault"]
    assert [e.to_dict()["code"] for e in raised] == ["record_failed"]
    device.close()


def test_a_store_that_stalls_never_stalls_the_session_and_the_record_is_complete_after(
    tmp_path: Path,
) -> None:
    settings = StoreSettings(data_dir=tmp_path, telemetry_flush_s=0.5)
    store = open_store(f"sqlite:///{tmp_path / 'records.db'}", settings=settings, upgrade=True)
    sessions = LiveSessions(store=store, speed=1.0)
    client_id, practitioner_id = cleared_client(store)
    request = StartRequest(client_id, "Ana Lima", "pro-express", DEVICE, 1.0, practitioner_id)
    live = sessions.start(request, on=date.today())
    try:
        deadline = time.monotonic() + 60
        while not (str(live.runner.snapshot().status) == "running" and live.device.output_on):
            assert time.monotonic() < deadline, "the session never got under way"
            time.sleep(0.01)
        hold_s = 1.5  # under the writer's bound: a stall, not a fault
        before_t_s, before_wall_s = live.runner.snapshot().t_s, time.monotonic()
        with sqlite_locked(store, hold_s=hold_s):
            time.sleep(hold_s - 0.2)
            assert live.writer is not None and live.writer.lag_s() > 0.5  # the store stalled
            during_t_s = live.runner.snapshot().t_s - before_t_s
            during_wall_s = time.monotonic() - before_wall_s
        # the session ran on through the stall (a write in the runner would have held it)
        assert during_t_s >= 0.6 * during_wall_s
        assert str(live.runner.status) == "running"
        time.sleep(0.5)
    finally:
        sessions.shutdown()
    assert live.wait(30)

    events, chunks, status = stored(store, live.record_id)
    assert [(k, round(t, 6)) for _s, k, t in events] == [
        (e.kind, round(e.t_s, 6)) for e in live.runner.events
    ]
    assert status == "stopped" and chunks and live.error == ""
    assert chunks[-1][1] >= live.runner.t_s - 0.5
