"""Web: requests per second and latency percentiles under 50 concurrent clients.

Measured against a uvicorn server in its own process (so the load generator does not share its
interpreter): the client page (signed in, every read audited) and an API read (a token, the
client's screening, audited), on SQLite and, where MICROAMP_TEST_DATABASE_URL is set, on
PostgreSQL (a schema of its own); beside a bare FastAPI endpoint measured in the same run.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from microamp.store.scratch import scratch_schema

CONCURRENCY = 50
DURATION_S = 20.0  # five measurements: about 110 s of the whole bench
PASSWORD = "bench password 2026"
# every bench server and every store a section opens beside one sign with this key: workers on
# one database must agree on it
SECRET_KEY = "b" * 40
PG_ENV = "MICROAMP_TEST_DATABASE_URL"
ROOT = Path(__file__).resolve().parents[1]

_SERVER = """
import sys, uvicorn
from fastapi import FastAPI
kind, port = sys.argv[1], int(sys.argv[2])
if kind == "bare":
    app = FastAPI()
    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}
else:
    if kind == "unaudited":
        # the same app with the audit row left out of every page's transaction (bench only)
        import microamp.web.deps as deps
        deps.append_audit = lambda *args, **kwargs: None
    from microamp.web import WebSettings, create_app
    app = create_app(WebSettings(database_url=sys.argv[3], data_dir=sys.argv[4],
                                 secret_key=sys.argv[5]))
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(*args: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, args[0], str(port), *args[1:], SECRET_KEY],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded machine may take a while to import the app
        while True:
            try:
                httpx.get(base + "/healthz" if args[0] != "bare" else base + "/ping", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the bench server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(20)


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
    """How hard and how long: 50 clients for 20 s in the full run, a handful for 1 s quick."""

    concurrency: int = CONCURRENCY
    duration_s: float = DURATION_S


# one period of a professional step into a dry electrode, as a clinic would first look at it
PULSE_PAGE = "/protocols/pro-lift/steps/3/pulse?load=dry&window=period"

QUICK = Load(concurrency=4, duration_s=1.0)


async def _load(
    load: Load, base: str, path: str, headers: dict[str, str], cookies: httpx.Cookies
) -> dict[str, Any]:
    latencies: list[float] = []
    # every failure by its kind (an HTTP status or a transport error), so a failed read names
    # its cause: a 500 from the database, a 503, or a connection the server closed
    failures: collections.Counter[str] = collections.Counter()
    n = load.concurrency
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, cookies=cookies, limits=limits, timeout=30
    ) as client:
        end = time.perf_counter() + load.duration_s

        async def worker() -> None:
            while time.perf_counter() < end:
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.TransportError as exc:
                    failures[type(exc).__name__] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures[str(response.status_code)] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(n)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": sum(failures.values()),
        "error_kinds": dict(failures),
        "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def _signed_in(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        page = client.get("/signin").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post("/signin", data={"email": "bench@clinic.example", "password": PASSWORD,
                                     "csrf_token": token.group(1)})  # fmt: skip
        return client.cookies


def _database(load: Load, url: str, data_dir: Path) -> dict[str, Any]:
    client_id, token = _seed(url, data_dir)
    with _server("app", url, str(data_dir)) as base:
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
    with _server("bare") as base:
        result["bare_fastapi"] = asyncio.run(_load(load, base, "/ping", {}, httpx.Cookies()))
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = measure(load, f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp))
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
