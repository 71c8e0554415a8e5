"""A Stop at a station in its own process (`python -m microamp station`, the simulator at real
time): the runner is woken by it, not by its next tick, and the record's telemetry shows no
current after the end it wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from microamp.session import Operator
from microamp.station import StartRequest, StoreSessions
from microamp.store import Store, StoreSettings, get_session_record, open_store
from microamp.store.records import session_telemetry
from microamp.store.telemetry import COLUMNS
from station.test_station_loop import cleared_client

ROOM = "Room 3"
DEVICE = "sim://?load=gel"
DANA = Operator("Dana Reyes", None, "api")
_T, _COMMANDED = COLUMNS.index("t_s"), COLUMNS.index("commanded_ua")
WAIT_S = 60.0


@contextmanager
def station_process(url: str, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (data_dir / "station.log").open("wb")
    command = [sys.executable, "-m", "microamp", "station", "--device", DEVICE, "--name", ROOM,
               "--database", url, "--session-speed", "1"]  # fmt: skip
    env = os.environ | {"MICROAMP_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        log.close()


def _until(what: str, check: object, timeout_s: float = WAIT_S) -> object:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def _output_on(store: Store, record_id: int) -> bool:
    """The record shows current delivered: a step under way, its telemetry written."""
    with store.session() as db:
        rows = session_telemetry(db, session_id=record_id)
        return bool(len(rows)) and bool((rows[:, _COMMANDED] > 0.0).any())


def test_a_stop_at_a_station_process_wakes_its_runner_and_the_output_is_zero_after(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    # chunks every half second: the record shows current soon after the step starts
    settings = StoreSettings(data_dir=tmp_path, telemetry_flush_s=0.5)
    with open_store(url, settings=settings, upgrade=True) as store, station_process(url, tmp_path):
        client_id, practitioner_id = cleared_client(store)
        sessions = StoreSessions(store)
        _until("the station online", lambda: any(s.online for s in sessions.stations()))
        request = StartRequest(client_id, "Ana Lima", "pro-express", DEVICE, 1.0, practitioner_id)
        live = sessions.start(request, on=date.today())
        _until("current on the probes", lambda: _output_on(store, live.record_id))
        live.control("stop", DANA)
        assert live.wait(WAIT_S)
        with store.session() as db:
            record = get_session_record(db, session_id=live.record_id)
            ended = record.events[-1]
            rows = session_telemetry(db, session_id=live.record_id)
    assert record.status == "stopped" and ended.kind == "ended"
    assert ended.data["operator"]["name"] == "Dana Reyes"
    # the mechanism: the Stop cut the runner's wait short (or came while it worked and was
    # taken at its next turn); it never waited out the tick
    assert ended.data["stop_heard"] in ("woke", "between"), ended.data
    # what it cut short is at most one tick (nothing when the host ran behind its pace)
    assert 0.0 <= ended.data["wait_left_s"] <= 0.05
    # from the end on, no current: the last frames are at or before it, or commanded zero
    after = rows[rows[:, _T] > ended.t_s + 1e-6]
    assert not (after[:, _COMMANDED] > 0.0).any()
    assert rows[:, _COMMANDED].max() > 0.0
