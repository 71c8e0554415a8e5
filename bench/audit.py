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
from pathlib import Path
from typing import Any

from bench.web import QUICK, Load, _load, _seed, _server, _signed_in, beside_bare_endpoint

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
    result = beside_bare_endpoint(QUICK if quick else Load(duration_s=10.0), _database)
    return {"audit_cost": {**result, "goal_ratio": GOAL_RATIO}}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
