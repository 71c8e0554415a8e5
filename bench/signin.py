"""Sign-in cost: what looking a server-side session up costs per request.

One server, one run: the same cheap endpoint (``/healthz``) with a signed-in browser's cookie
(the session middleware looks the session up in the store, and touches it) and without one (no
lookup), beside the closest cheaper path a program takes, an API read with a bearer token
(``/api/v1/me``: one token lookup). SQLite; the load is the web section's.

Then the same two endpoints idle, one request at a time on a kept-alive connection, so a
token read's own cost is seen without the queue in front of it; and the lookup alone (its
SHA-256, the indexed select and the user's row) in-process.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.stores import sqlite_url
from bench.web import QUICK, SECRET_KEY, Load, _load, _seed, _server, _signed_in

IDLE_REQUESTS = 300
QUICK_IDLE_REQUESTS = 10


def _one_at_a_time(base: str, path: str, headers: dict[str, str], n: int) -> dict[str, float]:
    """p50 and p95 of ``n`` requests sent one after another on one kept-alive connection."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, headers=headers) as client:
        client.get(path)  # the connection opened outside the figures
        for _ in range(n):
            started = time.perf_counter()
            client.get(path).raise_for_status()
            latencies.append(time.perf_counter() - started)
    ms = np.array(latencies) * 1000
    return {"requests": n, "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95))}  # fmt: skip


def _lookup_alone_ms(url: str, data_dir: Path, token: str, n: int) -> float:
    """The token lookup without HTTP: a session, the token's row by its hash, the user's row."""
    from microamp.store.access import find_api_token
    from microamp.store.models import User
    from microamp.web import WebSettings
    from microamp.web.app import open_web_store

    store = open_web_store(WebSettings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY))
    try:
        started = time.perf_counter()
        for _ in range(n):
            with store.session() as db:
                row = find_api_token(db, token)
                assert row is not None and db.get(User, row.user_id) is not None
        return (time.perf_counter() - started) / n * 1000
    finally:
        store.close()


def run(quick: bool = False) -> dict[str, Any]:
    load = QUICK if quick else Load(duration_s=10.0)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = sqlite_url(data_dir / "bench.db", quick)
        _, token = _seed(url, data_dir)
        with _server("app", url, str(data_dir), quick=quick) as base:
            cookies = _signed_in(base)
            session = asyncio.run(_load(load, base, "/healthz", {}, cookies))
            anonymous = asyncio.run(_load(load, base, "/healthz", {}, httpx.Cookies()))
            bearer = asyncio.run(
                _load(
                    load, base, "/api/v1/me", {"Authorization": f"Bearer {token}"}, httpx.Cookies()
                )  # fmt: skip
            )
            n = QUICK_IDLE_REQUESTS if quick else IDLE_REQUESTS
            idle_me = _one_at_a_time(base, "/api/v1/me", {"Authorization": f"Bearer {token}"}, n)
            idle_health = _one_at_a_time(base, "/healthz", {}, n)
        lookup_ms = _lookup_alone_ms(url, data_dir, token, 10 * n)
    return {
        "session_lookup": {
            "concurrency": load.concurrency,
            "duration_s": load.duration_s,
            "signed_in_session": session,
            "anonymous": anonymous,
            "bearer_token": bearer,
            "session_vs_anonymous_rps": session["rps"] / anonymous["rps"],
            "idle_bearer_me": idle_me,
            "idle_healthz": idle_health,
            "token_lookup_alone_ms": lookup_ms,
        }
    }
