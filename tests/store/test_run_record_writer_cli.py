"""`microamp run --client` records through the session's record writer, as a station does: a
normal run's record holds every event and all its telemetry, and a store that stalls past the
writer's bound stops the output with the ``record_failed`` fault, the record still complete."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import Store, StoreSettings, get_session_record, open_store
from microamp.store.record_writer import MAX_LAG_S
from microamp.store.records import session_telemetry
from microamp.store.session_models import TreatmentSession
from microamp.store.telemetry import COLUMNS
from support.durability import WAIT_LIMIT_S, cleared_client

DEVICE = "sim://?load=gel&rate_hz=5000"
_T, _COMMANDED = COLUMNS.index("t_s"), COLUMNS.index("commanded_ua")


def _assert_complete(store: Store, record_id: int, summary: dict[str, Any]) -> Any:
    """Every event the runner emitted, in order without gaps, and telemetry to its end."""
    with store.session() as db:
        record = get_session_record(db, session_id=record_id)
        kinds = [e.kind for e in record.events]
        assert [e.seq for e in record.events] == list(range(summary["events_count"]))
        assert record.event_count == summary["events_count"]
        assert kinds[0] == "started" and kinds[-1] == "ended"
        assert record.events[-1].data["status"] == summary["status"] == record.status
        assert [c.seq for c in record.chunks] == list(range(len(record.chunks)))
        rows = session_telemetry(db, session_id=record_id)
        assert record.telemetry_frames > 0 and len(rows) > 0
        return record, rows


def test_a_normal_run_s_record_is_complete(store: Store, database_url: str) -> None:
    client_id = cleared_client(store)
    result = CliRunner().invoke(app, [
        "run", "eye-area", "--device", DEVICE, "--speed", "max", "--client", str(client_id),
        "--database", database_url, "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    record, rows = _assert_complete(store, summary["record_id"], summary)
    assert record.status == "completed" and not summary["faults"]
    # the telemetry reaches the session's last step, not only the chunks written before it
    assert rows[-1, _T] >= summary["duration_s"] - 5.0
    recorded_uc = sum(zone["charge_uc"] for zone in record.dose_by_zone.values())
    assert abs(recorded_uc - summary["delivered_charge_uc"]) <= 0.01 * recorded_uc


def _running_step(store: Store, client_id: int, child: subprocess.Popen[str]) -> int:
    """The client's record once its first step has started (output on)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        assert child.poll() is None, "the run ended before its first step"
        with store.session() as db:
            ids = db.scalars(select(TreatmentSession.id).where(
                TreatmentSession.client_id == client_id)).all()  # fmt: skip
            for record_id in ids:
                record = get_session_record(db, session_id=record_id)
                if any(e.kind == "step_started" for e in record.events):
                    return record_id
        time.sleep(0.05)
    raise TimeoutError("the session's first step never started")


def _stalled_until_the_session_ends(
    store: Store, child: subprocess.Popen[str]
) -> tuple[str, str, float]:
    """Another connection holds the SQLite write lock (as another process's long transaction
    would; under SQLite's busy timeout, so each write waits) until the run has printed its
    summary, the session over; then the run finishes. Its stdout, stderr and how long the
    lock was held."""
    assert child.stdout is not None
    lock = sqlite3.connect(str(store.engine.url.database), timeout=30, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    taken = time.monotonic()
    errors: list[str] = []
    reader = threading.Thread(
        target=lambda: errors.append(child.stderr.read() if child.stderr else ""), daemon=True
    )
    reader.start()
    out = ""
    try:
        deadline = taken + WAIT_LIMIT_S
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            out += line
            if line.startswith("}"):  # the summary's last line: the session has ended
                break
    finally:
        held_s = time.monotonic() - taken
        lock.execute("COMMIT")
        lock.close()
    out += child.stdout.read()
    child.wait(WAIT_LIMIT_S)
    reader.join(WAIT_LIMIT_S)
    return out, "".join(errors), held_s


def test_a_store_that_stalls_past_the_bound_stops_the_cli_session_with_record_failed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    store = open_store(url, settings=StoreSettings(data_dir=tmp_path), upgrade=True)
    client_id = cleared_client(store)
    command = [
        sys.executable, "-m", "microamp", "run", "home-express", "--device", DEVICE,
        "--speed", "2", "--client", str(client_id), "--database", url, "--json",
    ]  # fmt: skip
    # unbuffered: the summary is on the pipe as soon as the session has ended
    env = os.environ | {"MICROAMP_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as child:  # fmt: skip
        try:
            record_id = _running_step(store, client_id, child)
            out, err, held_s = _stalled_until_the_session_ends(store, child)
        finally:
            if child.poll() is None:
                child.kill()
    # the store stalled for longer than the bound: the session ended while it was still held
    assert held_s > MAX_LAG_S
    assert child.returncode == 1, err
    summary = json.loads(out)
    assert summary["status"] == "aborted" and summary["record_id"] == record_id
    assert [f["code"] for f in summary["faults"]] == ["record_failed"]
    assert "behind" in summary["faults"][0]["detail"]["reason"]

    record, rows = _assert_complete(store, record_id, summary)
    fault = next(e for e in record.events if e.kind == "fault")
    assert fault.data["code"] == "record_failed" and record.status == "aborted"
    # output zero from the fault on: no current commanded after it
    after = rows[rows[:, _T] > fault.t_s + 1e-6]
    assert not (after[:, _COMMANDED] > 0.0).any()
    store.engine.dispose()
