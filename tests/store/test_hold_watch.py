"""The hold watch on PostgreSQL: a request the server leaves unanswered past the bound is cut
(the waiting thread gets an error at once), while a connection that is merely held long, idle
between statements or with its answer come but not yet read, is left alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from microamp.store import StoreSettings, open_store
from microamp.store.db import HoldWatch, Store
from support.link import Link

pytestmark = pytest.mark.postgres
BOUND_S = 0.3


@pytest.fixture
def linked(pg_url: str, tmp_path: Path) -> Iterator[tuple[Store, Link]]:
    """A store reaching PostgreSQL through a link the test can silence."""
    url = make_url(pg_url)
    with Link((url.host or "127.0.0.1", url.port or 5432)) as link:
        proxied = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        with open_store(proxied, settings=StoreSettings(data_dir=tmp_path), upgrade=True) as store:
            yield store, link
        link.restore()


def _held_past(seconds: float) -> None:
    """Keep a connection checked out, as a thread busy between statements does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_connection_held_idle_past_the_bound_is_not_cut(
    linked: tuple[Store, Link],
) -> None:
    store, _link = linked
    cuts: list[int] = []
    watch = HoldWatch(store.engine, BOUND_S, on_cut=lambda: cuts.append(1))
    try:
        with store.engine.begin() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            _held_past(4 * BOUND_S)
            assert conn.execute(text("SELECT 2")).scalar() == 2
            _held_past(4 * BOUND_S)
    finally:
        watch.stop()
    assert (watch.cut, cuts) == (0, [])


def test_an_answer_come_but_not_yet_read_is_not_cut(linked: tuple[Store, Link]) -> None:
    store, _link = linked
    watch = HoldWatch(store.engine, BOUND_S)
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            raw = conn.connection.dbapi_connection
            assert raw is not None
            pgconn = raw.pgconn  # type: ignore[attr-defined]
            # the request goes out and is answered, but nobody reads the answer for a while:
            # a thread the machine leaves unscheduled
            pgconn.send_query(b"SELECT 42")
            _held_past(4 * BOUND_S)
            assert watch.cut == 0
            while pgconn.is_busy():
                pgconn.consume_input()
            answer = pgconn.get_result()
            assert answer is not None and answer.get_value(0, 0) == b"42"
            while pgconn.get_result() is not None:
                pass
    finally:
        watch.stop()
    assert watch.cut == 0


def test_a_request_left_unanswered_is_cut_within_the_bound(
    linked: tuple[Store, Link],
) -> None:
    store, link = linked
    cuts: list[float] = []
    watch = HoldWatch(store.engine, BOUND_S, on_cut=lambda: cuts.append(time.monotonic()))
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            link.silence()
            asked_at = time.monotonic()
            with pytest.raises(OperationalError):
                conn.execute(text("SELECT 2"))
            failed_after_s = time.monotonic() - asked_at
    finally:
        link.restore()
        watch.stop()
    assert watch.cut == 1 and len(cuts) == 1
    # the bound, a watch period and some slack for a loaded machine
    assert BOUND_S < failed_after_s < BOUND_S + 1.0, failed_after_s
