"""Session records: events committed per second on SQLite and PostgreSQL, telemetry frames
recorded per second, and the bytes a 60-minute session's telemetry takes."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.stores import sqlite_url
from microamp.store import SessionRecorder, StoreSettings, open_store
from microamp.store.scratch import scratch_schema
from microamp.store.telemetry import COLUMNS, TelemetryBuffer

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
SIM_TELEMETRY_HZ = 100  # the sim backend's default frame rate
SESSION_S = 60 * 60


def _frame(t_s: float, delivered_ua: float) -> dict[str, Any]:
    return {
        "t_s": t_s,
        "commanded_ua": 300.0,
        "delivered_ua": delivered_ua,
        "peak_ua": delivered_ua + 3.0,
        "voltage_v": delivered_ua * 0.01,
        "impedance_ohm": 10_000.0,
        "flags": (),
    }


def _measure(url: str, data_dir: Path, events: int, frames: int) -> dict[str, Any]:
    settings = StoreSettings(data_dir=data_dir, database_url=None)
    with open_store(url, settings=settings, upgrade=True) as store:
        recorder = SessionRecorder.start(store, protocol_name="bench", device_url="sim://")
        started = time.perf_counter()
        for n in range(events):
            recorder({"kind": "cue", "t_s": n * 0.1, "step": 0, "text": "move", "reason": "move"})
        events_s = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(frames):
            recorder(_frame(n / SIM_TELEMETRY_HZ, 300.0))
        frames_s = time.perf_counter() - started
        recorder.finish("completed")
    return {
        "events": events,
        "events_per_s": round(events / events_s),
        "telemetry_frames_per_s": round(frames / frames_s),
    }


def _telemetry_bytes(settings: StoreSettings, session_s: int = SESSION_S) -> dict[str, Any]:
    """Bytes stored for ``session_s`` (60 minutes) of telemetry at the sim's 100 frames a second."""
    rng = np.random.default_rng(1)
    buffer = TelemetryBuffer(settings.telemetry_hz)
    stored = rows = 0
    for second in range(session_s):
        delivered = 300.0 + rng.normal(0.0, 2.0, SIM_TELEMETRY_HZ)
        for k in range(SIM_TELEMETRY_HZ):
            buffer.add(_frame(second + k / SIM_TELEMETRY_HZ, float(delivered[k])))
        if buffer.span_s() >= settings.telemetry_flush_s:
            chunk = buffer.take()
            if chunk is not None:
                stored, rows = stored + len(chunk.data), rows + chunk.rows
    chunk = buffer.take(final=True)
    if chunk is not None:
        stored, rows = stored + len(chunk.data), rows + chunk.rows
    return {
        "bytes": stored,
        "rows": rows,
        "raw_float32_bytes": rows * len(COLUMNS) * 4,
        "frames": session_s * SIM_TELEMETRY_HZ,
        "session_s": session_s,
        "telemetry_hz": settings.telemetry_hz,
    }


def run(quick: bool = False) -> dict[str, Any]:
    events, frames = (100, 1000) if quick else (2000, 20_000)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        sqlite = _measure(sqlite_url(data_dir / "bench.db", quick), data_dir, events, frames)
        base = os.environ.get(PG_ENV)
        if base:
            with scratch_schema(base, prefix="bench") as url:
                postgresql = _measure(url, data_dir, events // 4, frames)
        else:
            postgresql = {"skipped": f"{PG_ENV} is not set"}
        settings = StoreSettings(data_dir=data_dir, database_url=None)
        telemetry = _telemetry_bytes(settings, 60 if quick else SESSION_S)
    return {
        "records": {
            "sqlite": sqlite,
            "postgresql": postgresql,
            "telemetry_bytes_60min": telemetry["bytes"],
            "telemetry_60min": telemetry,
        }
    }
