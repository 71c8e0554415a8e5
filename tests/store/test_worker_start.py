"""Web workers started together on one empty database: the migrations run once, under a lock,
every worker comes up on the same signing key, and a worker with another key is refused."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from microamp.store import StoreSettings, current_revision, head_revision, open_store
from microamp.store.db import make_engine

CHILD = Path(__file__).with_name("worker_child.py")
WORKERS = 4


def _start_together(
    database_url: str, tmp_path: Path, keys: list[str | None], audit_keys: list[str] | None = None
) -> list[tuple[int, dict[str, str]]]:
    """Start one worker per key (None: no MICROAMP_SECRET_KEY), each with a data directory of
    its own as on separate hosts (so given the clinic's MICROAMP_AUDIT_KEY, unless
    ``audit_keys`` says otherwise), release them at once; (exit code, what each printed)."""
    gate = tmp_path / "gate"
    gate.mkdir()
    workers = []
    for n, key in enumerate(keys):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROAMP_")}
        if key is not None:
            env["MICROAMP_SECRET_KEY"] = key
        env["MICROAMP_AUDIT_KEY"] = audit_keys[n] if audit_keys else "the clinic's audit key"
        command = [sys.executable, str(CHILD), database_url, str(tmp_path / f"host{n}"), str(gate),
                   str(n)]  # fmt: skip
        workers.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env))  # fmt: skip
    try:
        return _release(workers, gate)
    finally:
        for worker in workers:  # whatever failed, no worker outlives the test
            if worker.poll() is None:
                worker.kill()
            worker.communicate()


def _release(workers: list[subprocess.Popen[str]], gate: Path) -> list[tuple[int, dict[str, str]]]:
    deadline = time.monotonic() + 120  # a guard against a hung child, not a speed check
    while len(list(gate.glob("*.ready"))) < len(workers):
        assert time.monotonic() < deadline, "the workers never got ready"
        assert all(w.poll() is None for w in workers), "a worker ended before the start"
        time.sleep(0.02)
    (gate / "go").touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert out.strip(), err[-3000:]
        results.append((worker.returncode, json.loads(out.strip().splitlines()[-1])))
    return results


def _versions(database_url: str, tmp_path: Path) -> list[str]:
    engine = make_engine(database_url, StoreSettings(data_dir=tmp_path / "reader"))
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_four_workers_started_at_once_on_an_empty_database_all_come_up(
    database_url: str, tmp_path: Path
) -> None:
    results = _start_together(database_url, tmp_path, [None] * WORKERS)
    assert [code for code, _ in results] == [0] * WORKERS, results
    assert {printed["revision"] for _, printed in results} == {head_revision()}
    # one key for all, though each started on a data directory of its own
    assert len({printed["key"] for _, printed in results}) == 1
    assert _versions(database_url, tmp_path) == [head_revision()]


@pytest.mark.slow
def test_a_worker_with_another_key_is_refused_naming_the_setting(
    database_url: str, tmp_path: Path
) -> None:
    keys = ["a" * 40, "a" * 40, "b" * 40]
    results = _start_together(database_url, tmp_path, keys)
    codes = sorted(code for code, _ in results)
    # whichever key came first is the clinic's; the odd one out, or both of the others, refused
    assert codes in ([0, 0, 2], [0, 2, 2]), results
    for code, printed in results:
        if code == 2:
            assert printed["refused"].startswith("MICROAMP_SECRET_KEY:")
            assert "give every worker the same one" in printed["refused"]
    assert _versions(database_url, tmp_path) == [head_revision()]


@pytest.mark.slow
def test_a_worker_on_another_host_with_another_audit_key_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    """Rows sealed with two keys would break the chain where they meet: such a worker must not
    start."""
    results = _start_together(database_url, tmp_path, [None, None], ["one key", "another key"])
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(printed["refused"] for code, printed in results if code == 2)
    assert refused.startswith("MICROAMP_AUDIT_KEY:")
    assert "give every host the same MICROAMP_AUDIT_KEY" in refused


def test_a_migration_waits_out_a_lock_held_longer_than_the_busy_timeout(tmp_path: Path) -> None:
    """Another process migrating (copying photos in, say) may hold SQLite's write lock for
    longer than one busy timeout: the next one waits for it instead of failing."""
    database = tmp_path / "held.db"
    settings = StoreSettings(data_dir=tmp_path, sqlite_busy_timeout_s=0.2)
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")  # as every microamp process leaves it
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(1.5, holder.commit)
    released.start()
    try:
        with open_store(f"sqlite:///{database}", settings=settings, upgrade=True) as store:
            assert current_revision(store.engine) == head_revision()
        assert not released.is_alive()  # it came up only once the lock was let go
    finally:
        released.join()
        holder.close()
