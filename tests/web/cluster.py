"""The clinic layout in processes of their own, for tests: `microamp serve --workers N` and one
`microamp station` per device, on a scratch PostgreSQL schema (skipped without one).

    with served_cluster(tmp_path, workers=2, stations={"Room 2": "sim://?load=gel"}) as clinic:
        ...   # clinic.url is any worker (the kernel picks one per connection)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from microamp.store import Store, StoreSettings, open_store
from microamp.store.scratch import scratch_schema
from support.databases import PG_ENV, SKIP_REASON
from web.conftest import Clinic, seed
from web.test_stations import until


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
def served_cluster(
    tmp_path: Path,
    *,
    workers: int,
    stations: Mapping[str, str],
    speed: float = 2.0,
    more: Callable[[Store, Clinic], None] = lambda _store, _clinic: None,
) -> Iterator[Clinic]:
    """Seeded (`seed`, then ``more``), served by ``workers`` workers, with a station for each
    name -> device URL of ``stations``, all online when this yields."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url:
        store = open_store(url, settings=StoreSettings(data_dir=tmp_path), upgrade=True)
        port = free_port()
        clinic = Clinic(url=f"http://127.0.0.1:{port}", store=store, app=None)  # type: ignore[arg-type]
        seed(store, clinic)
        more(store, clinic)
        env = os.environ | {"MICROAMP_DATA_DIR": str(tmp_path), "COLUMNS": "200",
                            "MICROAMP_SECRET_KEY": "k" * 40}  # fmt: skip
        me = [sys.executable, "-m", "microamp"]
        serve = me + ["serve", "--workers", str(workers), "--port", str(port), "--database", url]
        try:
            with ExitStack() as running:
                running.enter_context(process(serve, tmp_path / "serve.log", env))
                for n, (name, device) in enumerate(stations.items()):
                    command = me + ["station", "--device", device, "--name", name, "--database",
                                    url, "--session-speed", repr(speed)]  # fmt: skip
                    running.enter_context(process(command, tmp_path / f"station-{n}.log", env))
                until("the workers", lambda: answers(clinic.url), 90)
                until("the stations online", lambda: online(clinic, stations), 60)
                yield clinic
        finally:
            store.close()


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/signin", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def fresh(clinic: Clinic, role: str) -> httpx.Client:
    """A client on a new connection: the kernel hands it to any of the workers."""
    return httpx.Client(base_url=clinic.url, timeout=30,
                        headers={"Authorization": f"Bearer {clinic.tokens[role]}",
                                 "Connection": "close"})  # fmt: skip


def online(clinic: Clinic, stations: Mapping[str, str]) -> bool:
    with fresh(clinic, "owner") as api:
        listed = {s["name"]: s for s in api.get("/api/v1/stations").json()}
    return all(listed.get(name, {}).get("online") for name in stations)
