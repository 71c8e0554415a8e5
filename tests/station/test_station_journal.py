"""A station cut off its store mid-session: output reaches zero within the command expiry, what
it could not write goes to its journal, and the journal is handed over, every event exactly
once, when the link returns. The hand-over itself is idempotent, and a record another process
closed meanwhile keeps its status and gains the journaled events once."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from microamp.devices.base import MAX_EXPIRY_S
from microamp.station import StartRequest, Station, StoreSessions
from microamp.station.live import LiveSession
from microamp.store import Store, StoreSettings, open_store
from microamp.store.base import utc_now
from microamp.store.db import make_engine
from microamp.store.journal import Journal, hand_over, hand_over_all, journal_path
from microamp.store.recording import SessionRecorder
from microamp.store.recovery import interrupt_record
from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession
from station.test_station_loop import cleared_client
from support.link import Link

ROOM = "Room 1"
DEVICE = "sim://?load=gel"


def until(what: str, check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return found


def stored(
    store: Store, record_id: int
) -> tuple[list[tuple[int, str, float]], list[tuple[int, float]], str]:
    """The record's events (seq, kind, t_s), telemetry chunks (seq, end t_s), its status."""
    with store.session() as db:
        events = [(e.seq, e.kind, e.t_s) for e in db.scalars(select(SessionEvent).where(
            SessionEvent.session_id == record_id).order_by(SessionEvent.seq))]  # fmt: skip
        chunks = [(c.seq, c.t_end_s) for c in db.execute(select(TelemetryChunk.seq,
            TelemetryChunk.t_end_s).where(TelemetryChunk.session_id == record_id)
            .order_by(TelemetryChunk.seq))]  # fmt: skip
        record = db.get(TreatmentSession, record_id)
        assert record is not None
        return events, chunks, record.status


def dead_store(tmp_path: Path) -> Store:
    """A store nothing answers at (a closed port): every write raises OperationalError."""
    settings = StoreSettings(data_dir=tmp_path)
    return Store(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", settings), settings)


@pytest.mark.postgres
def test_a_station_cut_off_postgresql_stops_output_journals_and_hands_over_every_event_once(
    pg_url: str, tmp_path: Path
) -> None:
    url = make_url(pg_url)
    with (
        open_store(pg_url, settings=StoreSettings(data_dir=tmp_path / "web"), upgrade=True) as web,
        Link((url.host or "127.0.0.1", url.port or 5432)) as link,
    ):
        proxied = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        near = open_store(proxied, settings=StoreSettings(data_dir=tmp_path / "station"))
        station = Station(near, name=ROOM, device_url=DEVICE, speed=4.0)
        station.start()
        try:
            client_id, practitioner_id = cleared_client(web)
            request = StartRequest(client_id, "Ana Lima", "pro-express", DEVICE, 1.0,
                                   practitioner_id)  # fmt: skip
            remote = StoreSessions(web).start(request, on=date.today())
            live: LiveSession = until("the session", lambda: station.sessions.get(remote.id))
            until("output", lambda: live.device.output_on, 30)
            time.sleep(1.0)  # some events and telemetry written before the cut
            written_before = len(stored(web, live.record_id)[0])
            link.cut()
            cut_at = time.monotonic()
            until("zero output", lambda: not live.device.output_on, 2 * MAX_EXPIRY_S)
            zero_after_s = time.monotonic() - cut_at
            assert live.wait(10), "the session ran on without the store"
            journal = Journal(journal_path(near, live.record_id))
            assert journal.pending, "nothing was journaled"
            assert stored(web, live.record_id)[2] == "running"  # its end is in the journal only
            time.sleep(1.0)
            link.restore()
            until("the hand-over", lambda: not journal.pending, 30)
            events, chunks, status = stored(web, live.record_id)
        finally:
            station.stop()
            near.close()
    assert zero_after_s <= MAX_EXPIRY_S, zero_after_s
    assert status == "stopped"
    assert [seq for seq, _kind, _t in events] == list(range(len(events)))
    assert len(set(events)) == len(events) > written_before >= 1
    # every event the runner emitted, in order, exactly once: the live view saw them all
    emitted = [data["kind"] for _seq, name, data in live.messages_since(0) if name == "event"]
    assert [kind for _seq, kind, _t in events] == emitted
    assert events[-1][1] == "ended" and "interrupted" not in emitted
    # telemetry up to the end: the last chunk, journaled with the end, was handed over too
    assert [seq for seq, _t in chunks] == list(range(len(chunks))) and chunks
    assert chunks[-1][1] >= events[-1][2] - 0.5 > 0


def journaled_session(store: Store, tmp_path: Path) -> SessionRecorder:
    """A record opened on ``store`` whose writes from now on meet a store that does not
    answer: a start, two steps, telemetry and the end, all in its journal."""
    recorder = SessionRecorder.start(store, protocol_name="lift", device_url=DEVICE,
                                     journaled=True)  # fmt: skip
    recorder.record_event({"kind": "started", "t_s": 0.0})
    recorder.store = dead_store(tmp_path)
    recorder.record_event({"kind": "step_started", "t_s": 1.0, "zone": "forehead"})
    for i in range(300):
        recorder.record_telemetry({"t_s": 1.0 + i / 100, "delivered_ua": 100.0, "voltage_v": 1.0,
                                   "impedance_ohm": 10_000.0})  # fmt: skip
    recorder.record_event({"kind": "stopped", "t_s": 4.0})
    recorder.keep_summary({"dose_by_zone": {"forehead": 1.5}, "steps": []})
    return recorder


def test_a_hand_over_repeated_writes_nothing_twice(database_url: str, tmp_path: Path) -> None:
    with open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True) as s:
        recorder = journaled_session(s, tmp_path)
        path = journal_path(s, recorder.session_id)
        assert stored(s, recorder.session_id)[0] == [(0, "started", 0.0)]
        copy = tmp_path / "copy.jsonl"
        shutil.copy(path, copy)
        assert hand_over(s, path) == len(Journal(copy).units()) >= 3
        once = stored(s, recorder.session_id)
        hand_over(s, copy)  # a crash between the commit and the file's removal
        twice = stored(s, recorder.session_id)
        with s.session() as db:
            record = db.get(TreatmentSession, recorder.session_id)
            assert record is not None
            dose, count = record.dose_by_zone, record.event_count
    assert not path.exists() and once == twice
    assert [kind for _seq, kind, _t in once[0]] == ["started", "step_started", "stopped"]
    assert once[1] and once[2] == "stopped"
    assert dose == {"forehead": 1.5} and count == 3


def test_a_record_closed_meanwhile_keeps_its_status_and_gains_the_journaled_events_once(
    database_url: str, tmp_path: Path
) -> None:
    with open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True) as s:
        recorder = journaled_session(s, tmp_path)
        path = journal_path(s, recorder.session_id)
        copy = tmp_path / "copy.jsonl"
        shutil.copy(path, copy)
        with s.transaction() as db:  # its lease lapsed: another process closed it
            assert interrupt_record(db, recorder.session_id, now=utc_now(), reason="lapsed")
        hand_over(s, path)
        once = stored(s, recorder.session_id)
        hand_over(s, copy)
        twice = stored(s, recorder.session_id)
    assert once == twice and once[2] == "interrupted"
    kinds = [kind for _seq, kind, _t in once[0]]
    assert kinds == ["started", "interrupted", "step_started", "stopped"], kinds
    assert [seq for seq, _kind, _t in once[0]] == [0, 1, 2, 3]


def test_a_journal_line_cut_short_by_a_crash_is_left_out(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append({"record_id": 1, "events": [], "chunks": [], "touch": {"at": utc_now()}})
    with journal.path.open("a") as out:
        out.write('{"record_id": 1, "ev')
    units = journal.units()
    assert len(units) == 1 and units[0]["touch"]["at"].tzinfo is not None


def test_a_journal_the_store_refuses_is_set_aside_and_the_others_handed_over(
    database_url: str, tmp_path: Path
) -> None:
    with open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True) as s:
        recorder = journaled_session(s, tmp_path)
        # a journal for a record that does not exist: its event breaks a foreign key
        bad = Journal(journal_path(s, 9999))
        bad.append({"record_id": 9999, "events": [{"session_id": 9999, "seq": 0, "kind": "x",
                    "t_s": 0.0, "data": {}, "recorded_at": utc_now()}]})  # fmt: skip
        written = hand_over_all(s)
        status = stored(s, recorder.session_id)[2]
    assert written == [recorder.session_id] and status == "stopped"
    assert not bad.path.exists() and bad.path.with_suffix(".refused").exists()
