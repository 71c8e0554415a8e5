"""The cost of auditing: the client page with its audit row, without it, and a bare endpoint.

Every read of a client page appends a row to the keyed audit chain (one HMAC, one insert, in the
page's own transaction, behind the chain's write lock). Measured in one run, each server in its
own process under the web section's load: the client page as it ships, the same app with the
audit row left out (``deps.append_audit`` made a no-op in that bench server only), and a bare
FastAPI endpoint. On SQLite and, where MICROAMP_TEST_DATABASE_URL is set, on PostgreSQL (a schema
of its own). Goal: audited >= 0.8x unaudited.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.web import PG_ENV, QUICK, Load, _load, _seed, _server, _signed_in
from microamp.store.scratch import scratch_schema

GOAL_RATIO = 0.8


def _page(load: Load, kind: str, url: str, data_dir: Path, client_id: int) -> dict[str, Any]:
    with _server(kind, url, str(data_dir)) as base:
        cookies = _signed_in(base)
        return asyncio.run(_load(load, base, f"/clients/{client_id}", {}, cookies))


def _database(load: Load, url: str, data_dir: Path) -> dict[str, Any]:
    client_id, _ = _seed(url, data_dir)
    audited = _page(load, "app", url, data_dir, client_id)
    unaudited = _page(load, "unaudited", url, data_dir, client_id)
    return {
        "audited": audited,
        "unaudited": unaudited,
        "audited_vs_unaudited_rps": audited["rps"] / unaudited["rps"],
    }


def run(quick: bool = False) -> dict[str, Any]:
    load = QUICK if quick else Load(duration_s=10.0)
    result: dict[str, Any] = {
        "concurrency": load.concurrency,
        "duration_s": load.duration_s,
        "goal_ratio": GOAL_RATIO,
    }
    with _server("bare") as base:
        result["bare_fastapi"] = asyncio.run(_load(load, base, "/ping", {}, httpx.Cookies()))
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = _database(load, f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp))
    pg = os.environ.get(PG_ENV)
    if not pg:
        result["postgresql"] = {"skipped": f"{PG_ENV} is not set"}
    else:
        with tempfile.TemporaryDirectory() as tmp, scratch_schema(pg, prefix="bench") as url:
            result["postgresql"] = _database(load, url, Path(tmp))
    return {"audit_cost": result}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
