"""Sign-in cost: what looking a server-side session up costs per request.

One server, one run: the same cheap endpoint (``/healthz``) with a signed-in browser's cookie
(the session middleware looks the session up in the store, and touches it) and without one (no
lookup), beside the closest cheaper path a program takes, an API read with a bearer token
(``/api/v1/me``: one token lookup). SQLite; the load is the web section's.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.web import QUICK, Load, _load, _seed, _server, _signed_in


def run(quick: bool = False) -> dict[str, Any]:
    load = QUICK if quick else Load(duration_s=10.0)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'bench.db'}"
        _, token = _seed(url, data_dir)
        with _server("app", url, str(data_dir)) as base:
            cookies = _signed_in(base)
            session = asyncio.run(_load(load, base, "/healthz", {}, cookies))
            anonymous = asyncio.run(_load(load, base, "/healthz", {}, httpx.Cookies()))
            bearer = asyncio.run(
                _load(
                    load, base, "/api/v1/me", {"Authorization": f"Bearer {token}"}, httpx.Cookies()
                )  # fmt: skip
            )
    return {
        "session_lookup": {
            "concurrency": load.concurrency,
            "duration_s": load.duration_s,
            "signed_in_session": session,
            "anonymous": anonymous,
            "bearer_token": bearer,
            "session_vs_anonymous_rps": session["rps"] / anonymous["rps"],
        }
    }
