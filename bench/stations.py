"""Stations: a control through the store to the station that runs the session, answered, a Stop
from its receipt at the station to zero output, and a Stop to the session's end (output zero,
record closed), on SQLite and (where
MICROAMP_TEST_DATABASE_URL is set) PostgreSQL. The station and the operator's side run in one
process here, the station woken the way a worker wakes it (SQLite: its poll is rung in-process;
PostgreSQL: NOTIFY)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.stores import sqlite_url
from microamp.clinic.intake import nothing_to_report
from microamp.session import Operator
from microamp.station import StartRequest, Station, StoreSessions
from microamp.station.live import LiveSession
from microamp.store import Store, StoreSettings, open_store
from microamp.store.crud import create_client, create_user, record_consent, record_intake
from microamp.store.scratch import scratch_schema

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
_OPERATOR = Operator("bench", None, "api")
# the quick run's simulator is paced 8x real time, so a session's prechecks pass in a moment
QUICK_SPEED = 8.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _figures(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": statistics.median(ms), "p95_ms": _percentile(ms, 0.95),
            "p99_ms": _percentile(ms, 0.99), "n": len(ms)}  # fmt: skip


class StopWatch:
    """When the station hands a Stop to its runner (``received``) and when the device's
    output is next commanded to zero after it (``zeroed``), perf-counter seconds: the
    runner's `stop` and the device's `stop`, stamped."""

    def __init__(self, local: LiveSession) -> None:
        self.received: float | None = None
        self.zeroed: float | None = None
        stop, device_stop = local.runner.stop, local.device.stop

        def received(operator: Operator | None = None) -> None:
            if self.received is None:
                self.received = time.perf_counter()
            stop(operator)

        def zeroed() -> None:
            device_stop()
            if self.received is not None and self.zeroed is None:
                self.zeroed = time.perf_counter()

        setattr(local.runner, "stop", received)  # noqa: B010 (an instance's own, for the bench)
        setattr(local.device, "stop", zeroed)  # noqa: B010

    def seconds(self) -> float:
        if self.received is None or self.zeroed is None:
            raise RuntimeError("the bench's Stop never reached zero output")
        return self.zeroed - self.received


def _request(store: Store) -> StartRequest:
    born = date(1988, 4, 12)
    with store.transaction() as db:
        user = create_user(db, email="b@bench.example", display_name="B", role="practitioner",
                           password_hash="x")  # fmt: skip
        client = create_client(db, full_name="Ana Lima", date_of_birth=born)
        record_intake(db, client_id=client.id, answers=nothing_to_report(born), on=date.today(),
                      today=date.today())  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Ana Lima")
    return StartRequest(client.id, "Ana Lima", "pro-express", "sim://?load=gel", 1.0, user.id)


def _running(station: Station, live_id: str) -> None:
    local = station.sessions.get(live_id)
    assert local is not None
    deadline = time.monotonic() + 30
    while str(local.runner.snapshot().status) != "running":
        if time.monotonic() > deadline:
            raise RuntimeError("the bench session never ran")
        time.sleep(0.02)


def _measure(
    url: str, data_dir: Path, sessions_n: int, controls_n: int, speed: float
) -> dict[str, Any]:
    with open_store(url, settings=StoreSettings(data_dir=data_dir), upgrade=True) as store:
        station = Station(store, name="Bench room", device_url="sim://?load=gel", speed=speed)
        station.start(check_device=False)
        ring = station.ring if store.dialect == "sqlite" else (lambda _name: None)
        sessions = StoreSessions(store, ring=ring)
        request = _request(store)
        controls_s: list[float] = []
        stops_s: list[float] = []
        zero_s: list[float] = []
        try:
            for _ in range(sessions_n):
                live = sessions.start(request, on=date.today())
                _running(station, live.id)
                for n in range(controls_n):
                    started = time.perf_counter()
                    live.control("pause" if n % 2 == 0 else "resume", _OPERATOR)
                    controls_s.append(time.perf_counter() - started)
                local = station.sessions.get(live.id)
                assert local is not None
                watch = StopWatch(local)
                started = time.perf_counter()
                live.control("stop", _OPERATOR)
                local.wait(10)
                stops_s.append(time.perf_counter() - started)
                zero_s.append(watch.seconds())
        finally:
            station.stop()
    return {"control_answered": _figures(controls_s), "stop_to_end": _figures(stops_s),
            "stop_received_to_zero": _figures(zero_s)}  # fmt: skip


def run(quick: bool = False) -> dict[str, Any]:
    sessions_n, controls_n, speed = (1, 4, QUICK_SPEED) if quick else (5, 20, 1.0)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = _measure(sqlite_url(Path(tmp) / "b.db", quick), Path(tmp), sessions_n,
                                    controls_n, speed)  # fmt: skip
        pg = os.environ.get(PG_ENV)
        if pg:
            with scratch_schema(pg, prefix="bench") as url:
                result["postgresql"] = _measure(url, Path(tmp), sessions_n, controls_n, speed)
        else:
            result["postgresql"] = {"skipped": f"{PG_ENV} is not set"}
    return {"stations": result}
