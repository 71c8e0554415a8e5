"""The clinic layout on PostgreSQL: `microamp serve --workers 4` and a `microamp station` in
processes of their own. A session started through one worker is read, listed, paused,
resumed, levelled and stopped through whichever worker answers each new connection; every
load answers, and every control is in the record with its operator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from microamp.store import StoreSettings, open_store
from microamp.store.scratch import scratch_schema
from support.databases import PG_ENV, SKIP_REASON
from web.conftest import Clinic, seed
from web.test_stations import ROOM, room, until

WORKERS = 4
LOADS = 12


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def process(
    command: list[str], log: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        running = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)  # fmt: skip
        try:
            yield running
        finally:
            if running.poll() is None:
                os.killpg(running.pid, signal.SIGTERM)
                running.wait(60)


@contextmanager
def cluster(tmp_path: Path) -> Iterator[Clinic]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url:
        store = open_store(url, settings=StoreSettings(data_dir=tmp_path), upgrade=True)
        port = free_port()
        clinic = Clinic(url=f"http://127.0.0.1:{port}", store=store, app=None)  # type: ignore[arg-type]
        seed(store, clinic)
        env = os.environ | {"MICROAMP_DATA_DIR": str(tmp_path), "COLUMNS": "200",
                            "MICROAMP_SECRET_KEY": "k" * 40}  # fmt: skip
        me = [sys.executable, "-m", "microamp"]
        serve = me + ["serve", "--workers", str(WORKERS), "--port", str(port), "--database", url]
        station = me + ["station", "--device", "sim://?load=gel", "--name", ROOM,
                        "--database", url, "--session-speed", "2"]  # fmt: skip
        try:
            with (
                process(serve, tmp_path / "serve.log", env),
                process(station, tmp_path / "station.log", env),
            ):
                until("the workers", lambda: _answers(clinic.url), 90)
                yield clinic
        finally:
            store.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/signin", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def fresh(clinic: Clinic, role: str) -> httpx.Client:
    """A client on a new connection: the kernel hands it to any of the workers."""
    return httpx.Client(base_url=clinic.url, timeout=30,
                        headers={"Authorization": f"Bearer {clinic.tokens[role]}",
                                 "Connection": "close"})  # fmt: skip


def call(clinic: Clinic, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
    with fresh(clinic, role) as api:
        return api.request(method, path, **kw)


@pytest.mark.postgres
def test_a_session_is_served_and_steered_by_any_of_four_workers(tmp_path: Path) -> None:
    with cluster(tmp_path) as clinic:
        with fresh(clinic, "practitioner") as api:
            until("the station online", lambda: (room(api) or {}).get("online"), 60)
        body = {"client_id": clinic.clients["cleared"], "protocol": "pro-express"}
        started = call(clinic, "practitioner", "POST", "/api/v1/sessions", json=body)
        assert started.status_code == 201, started.text
        live = started.json()
        lid = live["id"]
        until("the first step", lambda: call(clinic, "owner", "GET", f"/api/v1/sessions/{lid}")
              .json()["state"]["status"] == "running", 60)  # fmt: skip
        reads = [call(clinic, "owner", "GET", f"/api/v1/sessions/{lid}") for _ in range(LOADS)]
        listed = [call(clinic, "owner", "GET", "/api/v1/sessions") for _ in range(LOADS)]
        steps = [("practitioner", "pause"), ("owner", "resume"), ("practitioner", "pause"),
                 ("practitioner", "resume")]  # fmt: skip
        answers = [
            call(clinic, who, "POST", f"/api/v1/sessions/{lid}/{what}") for who, what in steps
        ]
        levelled = call(clinic, "owner", "POST", f"/api/v1/sessions/{lid}/intensity",
                        json={"level": 0.6})  # fmt: skip
        stopped = call(clinic, "owner", "POST", f"/api/v1/sessions/{lid}/stop")
        record = call(clinic, "owner", "GET", f"/api/v1/records/{live['record_id']}").json()
        serve_log = (tmp_path / "serve.log").read_text(errors="replace")
    assert [r.status_code for r in reads] == [200] * LOADS
    assert all(any(s["id"] == lid for s in r.json()) for r in listed)
    assert [a.status_code for a in answers] == [200] * len(steps), [a.text for a in answers]
    assert [a.json()["state"]["status"] for a in answers] == ["paused", "running"] * 2
    assert levelled.status_code == 200 and stopped.status_code == 200
    assert stopped.json()["state"]["done"]
    assert record["status"] == "stopped"
    by = [(c["control"], (c["operator"] or {}).get("name")) for c in record["controls"]]
    assert by[:4] == [("paused", "Practitioner"), ("resumed", "Owner"),
                      ("paused", "Practitioner"), ("resumed", "Practitioner")]  # fmt: skip
    assert ("intensity_changed", "Owner") in by and by[-1] == ("stopped", "Owner")
    assert serve_log.count("Application startup complete") == WORKERS
    assert "Traceback" not in serve_log
