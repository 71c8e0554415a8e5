"""The first connections to a new SQLite file agree on WAL mode even when they start together.

Changing a file's journal mode needs it to itself: while another connection holds the write
lock of a rollback-journal transaction, SQLite refuses ``PRAGMA journal_mode=WAL`` at once,
without waiting out its busy timeout. Web workers started together on an empty database met
that and one failed to start. The switch now waits within the busy timeout like any other wait.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from microamp.store import StoreSettings
from microamp.store.db import make_engine

HELD_S = 0.5


def _hold_write_lock(database: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE IF NOT EXISTS held (n INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # a rollback-journal writer mid-transaction
    holder.execute("INSERT INTO held VALUES (1)")
    return holder


def _journal_mode(engine_url: str, settings: StoreSettings) -> str:
    engine = make_engine(engine_url, settings)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("PRAGMA journal_mode")).scalar_one())
    finally:
        engine.dispose()


def test_the_switch_to_wal_waits_for_a_writer_that_holds_the_file(tmp_path: Path) -> None:
    database = tmp_path / "new.db"
    holder = _hold_write_lock(database)
    released = threading.Timer(HELD_S, holder.commit)
    released.start()
    try:
        mode = _journal_mode(f"sqlite:///{database}", StoreSettings(data_dir=tmp_path))
        assert mode == "wal"
        assert not released.is_alive()  # it got its connection only once the lock was let go
    finally:
        released.join()
        holder.close()


def test_a_writer_held_past_the_busy_timeout_is_still_an_error(tmp_path: Path) -> None:
    database = tmp_path / "held.db"
    holder = _hold_write_lock(database)
    settings = StoreSettings(data_dir=tmp_path, sqlite_busy_timeout_s=0.2)
    try:
        with pytest.raises(Exception, match="database is locked"):
            _journal_mode(f"sqlite:///{database}", settings)
    finally:
        holder.close()
