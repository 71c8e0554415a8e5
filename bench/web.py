"""Web: requests per second and latency percentiles under 50 concurrent clients.

Measured against a uvicorn server in its own process (so the load generator does not share its
interpreter): the client page (signed in, every read audited) and an API read (a token, the
client's screening, audited), on SQLite and, where MICROAMP_TEST_DATABASE_URL is set, on
PostgreSQL (a schema of its own); beside a bare FastAPI endpoint measured in the same run.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import multiprocessing.forkserver
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.stores import sqlite_url
from microamp.store.scratch import scratch_schema

CONCURRENCY = 50
DURATION_S = 20.0  # five measurements: about 110 s of the whole bench
PASSWORD = "bench password 2026"
# every bench server and every store a section opens beside one sign with this key: workers on
# one database must agree on it
SECRET_KEY = "b" * 40
PG_ENV = "MICROAMP_TEST_DATABASE_URL"
ROOT = Path(__file__).resolve().parents[1]
# one CA store for every bench client: each httpx client would otherwise load its own (some
# 25 ms, more on a loaded machine), and a quick run opens about a hundred. No bench server
# speaks TLS; the store is never consulted.
TLS = ssl.create_default_context()

# the full run's servers: each a fresh interpreter, as `microamp serve` starts one
_SERVER = """
import sys
from bench.web import serve
serve(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])
"""
# the quick run's servers: forked from one process that imported these once. A fresh
# interpreter spends seconds importing (and, without bytecode caches, compiling) microamp.web,
# and the quick run starts some twenty servers.
_PRELOADED = ["bench.web", "microamp.web.app", "uvicorn"]
_FORKS = multiprocessing.get_context("forkserver")
STOP_WAIT_S = 20.0
# a loaded machine may take a while to import the app
START_WAIT_S = 90.0


def serve(kind: str, port: int, *args: str) -> None:
    """Serve the bench app ``kind`` (``bare``, ``app`` or ``unaudited``) on ``port`` until
    terminated: the body of every bench server process. ``args``: for ``bare`` the secret key
    (unused), otherwise the database URL, the data directory and the secret key."""
    import uvicorn

    uvicorn.run(_app(kind, *args), host="127.0.0.1", port=port, log_level="warning")


def _app(kind: str, *args: str) -> Any:
    if kind == "bare":
        from fastapi import FastAPI

        bare = FastAPI()

        @bare.get("/ping")
        def ping() -> dict[str, str]:
            return {"ok": "yes"}

        return bare
    if kind == "unaudited":
        # the same app with the audit row left out of every page's transaction (this bench
        # server's process only)
        import microamp.web.deps as deps

        deps.append_audit = lambda *_args, **_kwargs: None
    from microamp.web import WebSettings, create_app

    url, data_dir, secret_key = args
    return create_app(WebSettings(database_url=url, data_dir=data_dir, secret_key=secret_key))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_forked_servers() -> None:
    """Start the process quick servers are forked from, importing the app in the background:
    called early in a quick run, the import overlaps the first sections."""
    _FORKS.set_forkserver_preload(_PRELOADED)
    multiprocessing.forkserver.ensure_running()


def _serve_quietly(kind: str, port: int, args: tuple[str, ...]) -> None:
    """`serve` in a forked process: its stdout (the bench's JSON document) left alone."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    serve(kind, port, *args)


@dataclass(frozen=True, slots=True)
class _Running:
    """A bench server's process: whether it still runs, and how to stop it (and wait)."""

    alive: Callable[[], bool]
    stop: Callable[[], None]


def _interpreter(kind: str, port: int, args: tuple[str, ...]) -> _Running:
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, kind, str(port), *args], cwd=ROOT, stdout=subprocess.DEVNULL
    )

    def stop() -> None:
        process.terminate()
        process.wait(STOP_WAIT_S)

    return _Running(alive=lambda: process.poll() is None, stop=stop)


def _forked(kind: str, port: int, args: tuple[str, ...]) -> _Running:
    start_forked_servers()
    process = _FORKS.Process(target=_serve_quietly, args=(kind, port, args), daemon=True)
    process.start()

    def stop() -> None:
        # killed, not asked to shut down: a quick server's figures are taken by now, and
        # uvicorn's graceful stop waits some 0.3 s a server
        process.kill()
        process.join(STOP_WAIT_S)
        if process.exitcode is None:
            raise RuntimeError(f"the bench server did not stop in {STOP_WAIT_S:g} s")

    return _Running(alive=process.is_alive, stop=stop)


@contextmanager
def _server(kind: str, *args: str, quick: bool = False) -> Iterator[str]:
    """A bench server (see `serve`) in a process of its own, until the block ends: a fresh
    interpreter, or (``quick``) a fork of one that imported the app already."""
    port = _free_port()
    running = (_forked if quick else _interpreter)(kind, port, (*args, SECRET_KEY))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base + ("/ping" if kind == "bare" else "/healthz"), running)
        yield base
    finally:
        running.stop()


def _wait_until_answering(url: str, running: _Running) -> None:
    deadline = time.monotonic() + START_WAIT_S
    with httpx.Client(verify=TLS, timeout=1) as probe:
        while True:
            try:
                probe.get(url)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or not running.alive():
                    raise RuntimeError("the bench server did not start") from None
                time.sleep(0.02)


def _seed(url: str, data_dir: Path) -> tuple[int, str]:
    """An owner with a token, and a screened client; returns (client id, token)."""
    from microamp.clinic.intake import nothing_to_report
    from microamp.store.access import create_api_token
    from microamp.store.crud import create_client, create_user, record_intake
    from microamp.web import WebSettings
    from microamp.web.app import open_web_store
    from microamp.web.security import hash_password

    # the servers sign with this key too: a worker with another is refused
    store = open_web_store(WebSettings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY))
    try:
        with store.transaction() as db:
            user = create_user(
                db, email="bench@clinic.example", display_name="Bench", role="owner",
                password_hash=hash_password(PASSWORD),
            )  # fmt: skip
            born = date(1985, 5, 5)
            client = create_client(db, full_name="Bench Client", date_of_birth=born)
            record_intake(
                db,
                client_id=client.id,
                answers=nothing_to_report(born),
                on=date.today(),
                today=date.today(),
            )
            return client.id, create_api_token(db, user_id=user.id, name="bench")[1]
    finally:
        store.close()


@dataclass(frozen=True, slots=True)
class Load:
    """How hard and how long: 50 clients for 20 s in the full run, a handful for a moment
    quick. ``quick`` also starts its servers forked and its SQLite files migrated (see
    `_server` and `bench.stores`): a smoke run of the same paths, its figures not for quoting."""

    concurrency: int = CONCURRENCY
    duration_s: float = DURATION_S
    quick: bool = False


# one period of a professional step into a dry electrode, as a clinic would first look at it
PULSE_PAGE = "/protocols/pro-lift/steps/3/pulse?load=dry&window=period"

# two clients, a few requests each: enough for every percentile, at a tenth of a second a
# figure (a load keeps the machine busy while it lasts, and the quick run takes some forty)
QUICK = Load(concurrency=2, duration_s=0.1, quick=True)


@dataclass
class Samples:
    """What a load saw: each answer's latency (s), every failure by its kind (an HTTP status
    or a transport error, so a failed read names its cause: a 500 from the database, a 503, or
    a connection the server closed) and the seconds it ran."""

    latencies_s: list[float] = field(default_factory=list)
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    elapsed_s: float = 0.0

    def __iadd__(self, other: Samples) -> Samples:
        self.latencies_s += other.latencies_s
        self.failures += other.failures
        self.elapsed_s += other.elapsed_s
        return self

    def figures(self) -> dict[str, Any]:
        ms = np.array(self.latencies_s) * 1000
        return {
            "requests": len(self.latencies_s),
            "errors": sum(self.failures.values()),
            "error_kinds": dict(self.failures),
            "rps": len(self.latencies_s) / self.elapsed_s,
            "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)),
            "p99_ms": float(np.percentile(ms, 99)),
        }


async def _sample(
    load: Load, base: str, path: str, headers: dict[str, str], cookies: httpx.Cookies
) -> Samples:
    """``load.concurrency`` clients asking for ``path`` again and again for ``load.duration_s``."""
    seen = Samples()
    n = load.concurrency
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, cookies=cookies, limits=limits, timeout=30, verify=TLS
    ) as client:
        end = time.perf_counter() + load.duration_s

        async def worker() -> None:
            while time.perf_counter() < end:
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.TransportError as exc:
                    seen.failures[type(exc).__name__] += 1
                    continue
                seen.latencies_s.append(time.perf_counter() - started)
                if response.status_code != 200:
                    seen.failures[str(response.status_code)] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(n)))
        seen.elapsed_s = time.perf_counter() - started
    return seen


async def _load(
    load: Load, base: str, path: str, headers: dict[str, str], cookies: httpx.Cookies
) -> dict[str, Any]:
    return (await _sample(load, base, path, headers, cookies)).figures()


def _signed_in(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, verify=TLS) as client:
        page = client.get("/signin").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post("/signin", data={"email": "bench@clinic.example", "password": PASSWORD,
                                     "csrf_token": token.group(1)})  # fmt: skip
        return client.cookies


def _database(load: Load, url: str, data_dir: Path) -> dict[str, Any]:
    client_id, token = _seed(url, data_dir)
    with _server("app", url, str(data_dir), quick=load.quick) as base:
        cookies = _signed_in(base)
        page = asyncio.run(_load(load, base, f"/clients/{client_id}", {}, cookies))
        api = asyncio.run(
            _load(
                load,
                base,
                f"/api/v1/clients/{client_id}/screening",
                {"Authorization": f"Bearer {token}"},
                httpx.Cookies(),
            )  # fmt: skip
        )
        # the pulse graph simulates a step on every request: its cost beside a stored page's
        pulse = asyncio.run(_load(load, base, PULSE_PAGE, {}, cookies))
    return {"client_page": page, "api_screening_read": api, "pulse_page": pulse}


def beside_bare_endpoint(
    load: Load, measure: Callable[[Load, str, Path], dict[str, Any]]
) -> dict[str, Any]:
    """The bare FastAPI endpoint, then ``measure`` on SQLite and (where MICROAMP_TEST_DATABASE_URL
    is set) on PostgreSQL in a schema of its own, each with a fresh data directory."""
    result: dict[str, Any] = {"concurrency": load.concurrency, "duration_s": load.duration_s}
    with _server("bare", quick=load.quick) as base:
        result["bare_fastapi"] = asyncio.run(_load(load, base, "/ping", {}, httpx.Cookies()))
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp) / "bench.db", load.quick)
        result["sqlite"] = measure(load, url, Path(tmp))
    pg = os.environ.get(PG_ENV)
    if not pg:
        result["postgresql"] = {"skipped": f"{PG_ENV} is not set"}
    else:
        with tempfile.TemporaryDirectory() as tmp, scratch_schema(pg, prefix="bench") as url:
            result["postgresql"] = measure(load, url, Path(tmp))
    return result


def run(quick: bool = False) -> dict[str, Any]:
    return {"web": beside_bare_endpoint(QUICK if quick else Load(), _database)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
