"""The cost of auditing: the client page with its audit row, without it, and a bare endpoint.

Every read of a client page appends a row to the keyed audit chain (one HMAC, one insert, in the
page's own transaction, behind the chain's write lock). Measured in one run, each server in its
own process under the web section's load: the client page as it ships, the same app with the
audit row left out (``deps.append_audit`` made a no-op in that bench server only), and a bare
FastAPI endpoint. On SQLite and, where MICROAMP_TEST_DATABASE_URL is set, on PostgreSQL (a schema
of its own). Goal: audited >= 0.8x unaudited.

Then what the owner's audit page pays to check the chain, in-process on SQLite: a long log with
a signed checkpoint and some rows after it, walked whole (``microamp audit verify``, the page's
"check the whole chain") and from the checkpoint on (every view of the page).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stores import sqlite_url
from bench.web import QUICK, Load, _load, _seed, _server, _signed_in, beside_bare_endpoint

GOAL_RATIO = 0.8
CHAIN_ROWS, CHAIN_ROWS_AFTER = 20_000, 100
# each row appended costs a few ms (its HMAC over the previous one's): a short chain quick
QUICK_CHAIN_ROWS, QUICK_CHAIN_ROWS_AFTER = 100, 10


def _page(load: Load, kind: str, url: str, data_dir: Path, client_id: int) -> dict[str, Any]:
    with _server(kind, url, str(data_dir), quick=load.quick) as base:
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


def _append(store: Any, count: int) -> None:
    from microamp.store.access import append_audit

    with store.transaction() as db:
        for n in range(count):
            append_audit(db, actor_id=None, actor="bench", action="read",
                         resource=f"client:{n}", client_id=n)  # fmt: skip


def chain_check(rows: int, rows_after: int, quick: bool = False) -> dict[str, Any]:
    """Milliseconds to verify ``rows`` + ``rows_after`` rows whole and from a checkpoint
    written after the first ``rows``."""
    from microamp.store import StoreSettings, open_store
    from microamp.store.audit_checkpoints import (
        verify_since_checkpoint,
        verify_with_checkpoints,
        write_checkpoint,
    )

    with tempfile.TemporaryDirectory() as tmp:
        settings = StoreSettings(data_dir=Path(tmp), audit_key="bench audit key")
        with open_store(sqlite_url(Path(tmp) / "a.db", quick), settings=settings,
                        upgrade=True) as store:  # fmt: skip
            _append(store, rows)
            with store.session() as db:
                write_checkpoint(db, settings.audit_checkpoints_path)
            _append(store, rows_after)
            timed: dict[str, float] = {}
            for name, verify in (("whole_ms", verify_with_checkpoints),
                                 ("since_checkpoint_ms", verify_since_checkpoint)):  # fmt: skip
                with store.session() as db:
                    started = time.perf_counter()
                    assert verify(db, settings.audit_checkpoints_path).intact
                    timed[name] = (time.perf_counter() - started) * 1000
    return {"rows": rows + rows_after, "rows_after_checkpoint": rows_after, **timed}


def run(quick: bool = False) -> dict[str, Any]:
    result = beside_bare_endpoint(QUICK if quick else Load(duration_s=10.0), _database)
    rows = (QUICK_CHAIN_ROWS, QUICK_CHAIN_ROWS_AFTER) if quick else (CHAIN_ROWS, CHAIN_ROWS_AFTER)
    chain = chain_check(*rows, quick=quick)
    return {"audit_cost": {**result, "goal_ratio": GOAL_RATIO}, "audit_chain_check": chain}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
