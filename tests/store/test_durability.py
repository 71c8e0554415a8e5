"""Durability: the real `microamp run --client` killed mid-session, and twenty sessions recorded
at once, on SQLite and on PostgreSQL. Nothing recorded is lost; a killed session's record is
`interrupted`, with every event it had written."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from microamp.store import (
    SessionRecorder,
    Store,
    StoreSettings,
    get_session_record,
    list_session_records,
    open_store,
)
from support.durability import (
    WAIT_LIMIT_S,
    assert_interrupted_with_its_events,
    cleared_client,
    kill_hard,
)

DEVICE = "sim://?load=gel&rate_hz=5000"


def _wait_for_steps(store: Store, client_id: int, steps: int) -> int:
    """The id of the client's running record once it holds ``steps`` started steps."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        with store.session() as session:
            for row in list_session_records(session, client_id=client_id):
                record = get_session_record(session, session_id=row.id)
                started = [e for e in record.events if e.kind == "step_started"]
                if record.status == "running" and len(started) >= steps:
                    return row.id
        time.sleep(0.1)
    raise TimeoutError(f"no running record with {steps} steps within {WAIT_LIMIT_S} s")


def test_a_session_killed_with_sigkill_leaves_an_interrupted_record_with_its_events(
    store: Store, database_url: str, settings: StoreSettings
) -> None:
    client_id = cleared_client(store)
    command = [
        sys.executable, "-m", "microamp", "run", "home-express", "--device", DEVICE,
        "--speed", "20", "--client", str(client_id), "--database", database_url, "--json",
    ]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        session_id = _wait_for_steps(store, client_id, steps=2)
    finally:
        kill_hard(child)
    # the next process to open the store finds the orphan and closes it
    with open_store(database_url, settings=settings) as reopened, reopened.session() as session:
        record = get_session_record(session, session_id=session_id)
        assert_interrupted_with_its_events(record, min_steps=2)


def test_twenty_sessions_recorded_at_once_lose_no_event(store: Store) -> None:
    sessions, events = 20, 60
    recorders = [SessionRecorder.start(store, protocol_name=f"p{i}") for i in range(sessions)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(sessions)

    def record(recorder: SessionRecorder) -> None:
        try:
            barrier.wait()
            for n in range(events):
                recorder({"kind": "cue", "t_s": n * 0.1, "n": n, "text": "move"})
            recorder({"kind": "ended", "t_s": events * 0.1, "status": "completed"})
        except BaseException as exc:  # reported below, with every thread joined first
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(r,)) for r in recorders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_LIMIT_S)
    assert errors == []
    with store.session() as session:
        for recorder in recorders:
            record = get_session_record(session, session_id=recorder.session_id)
            assert record.status == "completed"
            cues = [e.data["n"] for e in record.events if e.kind == "cue"]
            assert cues == list(range(events))
            assert record.event_count == events + 1
