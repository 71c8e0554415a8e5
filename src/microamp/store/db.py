"""Opening the record store: an engine per URL, SQLite tuned for a clinic, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed event survives the process
being killed, readers never block the writer, and each commit stays well under a millisecond.
Foreign keys are switched on, as PostgreSQL always has them. The database file is created
with mode 0600 (see `microamp.store.files`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from psycopg import pq
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from microamp.store.config import StoreSettings, load_settings
from microamp.store.files import ensure_private_file

__all__ = ["HoldWatch", "Store", "make_engine", "open_store", "postgres_connect_args"]

_log = logging.getLogger(__name__)


def make_engine(url: str, settings: StoreSettings) -> Engine:
    """An engine for a checked URL (see `normalise_url`); SQLite files get WAL and foreign keys."""
    parsed = make_url(url)
    # one connection per request thread plus the reserve, no overflow: a pool sized to the
    # threads never makes a request wait, and one set smaller fails fast (`PoolExhausted`)
    pool: dict[str, Any] = {
        "pool_size": settings.pool_size,
        "max_overflow": 0,
        "pool_timeout": settings.db_pool_timeout_s,
    }
    if parsed.get_backend_name() != "sqlite":
        connect_args = postgres_connect_args(settings)
        # the URL's own options (a search_path, say) are kept, the bounds added to them
        given = parsed.query.get("options")
        if isinstance(given, str) and given:
            connect_args["options"] = f"{given} {connect_args['options']}"
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)
    # made here, 0600 in a 0700 directory, before SQLite would create it under the umask; its
    # -wal and -shm files take the database file's mode
    ensure_private_file(Path(parsed.database or ""))
    engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_s}, **pool)
    event.listen(engine, "connect", _sqlite_tuner(settings.sqlite_busy_timeout_s))
    event.listen(engine, "savepoint", _take_write_lock_first)
    return engine


def postgres_connect_args(settings: StoreSettings) -> dict[str, Any]:
    """libpq's bounds on a connection: a host that does not answer is given up after
    `db_connect_timeout_s`; TCP keepalive finds a dead peer on an idle connection and
    ``tcp_user_timeout`` one that leaves sent data unacknowledged; the server cancels a
    statement, or a wait for a lock, that runs past its bound."""
    options = (
        f"-c statement_timeout={int(settings.db_statement_timeout_s * 1000)}"
        f" -c lock_timeout={int(settings.db_lock_timeout_s * 1000)}"
    )
    return {
        "connect_timeout": settings.db_connect_timeout_s,
        "keepalives": 1,
        "keepalives_idle": settings.db_keepalive_idle_s,
        "keepalives_interval": settings.db_keepalive_interval_s,
        "keepalives_count": settings.db_keepalive_count,
        "tcp_user_timeout": settings.db_tcp_user_timeout_s * 1000,
        "options": options,
    }


class HoldWatch:
    """Cuts a PostgreSQL connection whose statement the server has left unanswered for longer
    than ``bound_s``, so the thread waiting on it gets an `OperationalError` instead of waiting
    for ever. A link gone silent (a peer that stops answering without a reset, or a proxy that
    still acknowledges every packet) is otherwise seen by nothing: TCP keepalive and
    ``tcp_user_timeout`` need a peer that stops acknowledging, ``statement_timeout`` a server
    that hears the statement. For a station, whose every transaction is short writes.

    Only the wait on the server counts, never how long a connection is checked out: a thread
    that holds one while it works between statements, or that a loaded machine leaves
    unscheduled after the answer came, is slow, not cut off. A connection is cut when it is
    waiting for an answer (libpq says a command is in progress), its last request went out over
    ``bound_s`` ago and, where the socket's counters can be read (TCP on Linux), not one byte
    has come back since."""

    def __init__(
        self, engine: Engine, bound_s: float, on_cut: Callable[[], None] | None = None
    ) -> None:
        self.engine = engine
        self.bound_s = bound_s
        # told at once, in the watch's thread, after each cut (a station stops its output)
        self.on_cut = on_cut
        self.cut = 0
        self._held: dict[int, _Asked] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        # the pool's own ping runs before any checkout listener, untimed: it is done here
        # instead, once the connection is watched (SQLAlchemy's "pessimistic" recipe: a
        # `DisconnectionError` from a checkout makes the pool retry on a fresh connection)
        self._ping = engine.pool._pre_ping
        engine.pool._pre_ping = False
        # every request to the server starts a wait: the checkout's ping, each statement, each
        # commit and rollback (the pool's reset on return among them)
        listeners: tuple[tuple[str, Callable[..., None]], ...] = (
            ("checkout", self._checkout),
            ("checkin", self._checkin),
            ("reset", self._reset),
            ("before_cursor_execute", self._statement),
            ("commit", self._ends),
            ("rollback", self._ends),
        )
        self._listeners = listeners
        for name, handler in listeners:
            event.listen(engine, name, handler)
        self._thread = threading.Thread(target=self._watch, name="hold-watch", daemon=True)
        self._thread.start()

    def _checkout(self, dbapi_connection: Any, _record: object, _proxy: object) -> None:
        with self._lock:
            self._held[id(dbapi_connection)] = _Asked.now(dbapi_connection)
        if not self._ping:
            return
        try:
            dbapi_connection.execute("SELECT 1")
        except Exception as exc:  # any failure of the ping: that connection is done for
            with self._lock:
                self._held.pop(id(dbapi_connection), None)
            raise DisconnectionError(str(exc)) from exc

    def _checkin(self, dbapi_connection: Any, _record: object) -> None:
        with self._lock:
            self._held.pop(id(dbapi_connection), None)

    def _asked(self, dbapi_connection: Any) -> None:
        """A request is about to go to the server on ``dbapi_connection``: its wait starts."""
        key = id(dbapi_connection)
        if key not in self._held:  # checked out before the watch began: not watched
            return
        asked = _Asked.now(dbapi_connection)
        with self._lock:
            if key in self._held:
                self._held[key] = asked

    def _reset(self, dbapi_connection: Any, _record: object, _state: object) -> None:
        self._asked(dbapi_connection)

    def _statement(self, conn: Connection, *_args: object) -> None:
        self._asked(conn.connection.dbapi_connection)

    def _ends(self, conn: Connection) -> None:
        if not conn.closed and not conn.invalidated:
            self._asked(conn.connection.dbapi_connection)

    def _watch(self) -> None:
        while not self._stopped.wait(min(0.1, self.bound_s / 4)):
            now = time.monotonic()
            with self._lock:
                held = list(self._held.items())
            waiting = [(key, asked) for key, asked in held if asked.unanswered(now, self.bound_s)]
            stalled = []
            with self._lock:  # each one still on the request found unanswered
                for key, asked in waiting:
                    if self._held.get(key) is asked:
                        del self._held[key]
                        stalled.append(asked.connection)
            for connection in stalled:
                self._cut(connection)
            if stalled and self.on_cut is not None:
                try:
                    self.on_cut()
                except Exception:  # the watch must go on watching
                    _log.exception("the hold watch's callback failed")

    def _cut(self, connection: Any) -> None:
        try:
            fd = connection.pgconn.socket
        except Exception:  # closed meanwhile (its link reset): nothing left to cut
            return
        if not isinstance(fd, int) or fd < 0:
            return
        _log.error("the store left a request unanswered over %.1f s: cut as dead", self.bound_s)
        # a duplicate of its descriptor, shut down: the waiting read sees the end at once
        with contextlib.suppress(OSError):
            with socket.socket(fileno=os.dup(fd)) as dup:
                dup.shutdown(socket.SHUT_RDWR)
            self.cut += 1

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        for name, handler in self._listeners:
            event.remove(self.engine, name, handler)
        self.engine.pool._pre_ping = self._ping


# where Linux's ``struct tcp_info`` keeps ``tcpi_bytes_received`` (a u64; kernels since 4.1)
_TCP_INFO_BYTES_RECEIVED = 128


@dataclass(frozen=True)
class _Asked:
    """A watched connection's last request to the server: when it went, and how many bytes the
    socket had received by then (None where the count cannot be read)."""

    connection: Any
    at_s: float
    received: int | None

    @classmethod
    def now(cls, connection: Any) -> _Asked:
        return cls(connection, time.monotonic(), _bytes_received(connection))

    def unanswered(self, now_s: float, bound_s: float) -> bool:
        """Whether the server has kept this request waiting over ``bound_s``: still in progress
        and, where it can be told, nothing heard from the server since it went out."""
        if now_s - self.at_s <= bound_s or not _in_progress(self.connection):
            return False
        received = _bytes_received(self.connection)
        return received is None or received == self.received


def _in_progress(connection: Any) -> bool:
    """Whether libpq waits on the server for this connection (a command is in progress)."""
    try:
        return bool(connection.pgconn.transaction_status == pq.TransactionStatus.ACTIVE)
    except Exception:  # closed meanwhile: nothing waits on it
        return False


def _bytes_received(connection: Any) -> int | None:
    """The bytes the connection's TCP socket has received so far (read or not), or None where
    that is not known (a Unix socket, a system other than Linux, a closed connection)."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return None
    try:
        with socket.socket(fileno=os.dup(connection.pgconn.socket)) as dup:
            info = dup.getsockopt(socket.IPPROTO_TCP, option, 256)
    except Exception:  # not TCP, or closed meanwhile
        return None
    if len(info) < _TCP_INFO_BYTES_RECEIVED + 8:
        return None
    received: int = struct.unpack_from("=Q", info, _TCP_INFO_BYTES_RECEIVED)[0]
    return received


def _sqlite_tuner(busy_timeout_s: float) -> Callable[[Any, object], None]:
    def tune(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        try:
            _enter_wal(cursor, busy_timeout_s)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return tune


def _enter_wal(cursor: Any, busy_timeout_s: float) -> None:
    """Put the database file in WAL mode, waiting out other connections that start with it.

    WAL mode is kept in the file, so only the first connection to a new database changes it,
    and that change needs the file to itself. SQLite answers ``database is locked`` at once,
    without its busy handler, when several processes (web workers started together on an
    empty database) all try the change together; so the change is tried again, within the
    same busy timeout as any other wait, and skipped once another connection has made it.
    """
    deadline_s = time.monotonic() + busy_timeout_s
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() >= deadline_s:
                raise
            time.sleep(0.01)


def _take_write_lock_first(connection: Any, _name: str | None) -> None:
    """A savepoint that opens the transaction opens it ``BEGIN IMMEDIATE``.

    Python's sqlite3 begins a transaction only before the first INSERT, UPDATE or DELETE, and
    then takes the write lock at once (waiting out the busy timeout), so a plain read-then-write
    never holds a read snapshot it must upgrade. A ``SAVEPOINT`` with no transaction open begins
    a deferred one instead: its reads pin a WAL snapshot, and if another connection (a station's
    recorder, say) commits before the first write, SQLite answers that write ``database is
    locked`` at once, whatever the busy timeout, because the snapshot cannot be upgraded. Taking
    the write lock before the savepoint makes that write wait its turn like any other.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


class Store:
    """An open store: an engine and a factory of ORM sessions. Close it (or use ``with``)."""

    def __init__(self, engine: Engine, settings: StoreSettings) -> None:
        self.engine = engine
        self.settings = settings
        # the audit key travels with every session so `append_audit` seals rows without a
        # parameter at each call site; it is read (or created) only when a row is first sealed
        self._sessions = sessionmaker(
            engine, expire_on_commit=False, info={"audit_key_source": settings}
        )

    @property
    def url(self) -> str:
        """The URL, with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def session(self) -> Session:
        """A new ORM session; objects stay readable after commit."""
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def apart(self, pool_size: int, *, timeout_s: float | None = None) -> Store:
        """Another store on the same database with a pool of ``pool_size`` connections of its
        own (each waited for up to ``timeout_s``, else as this one waits): what runs a device
        (an embedded station) or a Stop never waits behind the pages' requests for a
        connection. Close it when done."""
        update: dict[str, Any] = {"db_pool_size": pool_size}
        if timeout_s is not None:
            update["db_pool_timeout_s"] = timeout_s
        settings = self.settings.model_copy(update=update)
        url = self.engine.url.render_as_string(hide_password=False)
        return Store(make_engine(url, settings), settings)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(
    url: str | None = None,
    *,
    settings: StoreSettings | None = None,
    upgrade: bool = False,
    recover: bool = True,
) -> Store:
    """Open the store at ``url`` (else ``MICROAMP_DATABASE_URL``, else the default SQLite file).

    ``upgrade`` runs the migrations to the newest revision first; otherwise a database that is
    not at the newest revision raises `StoreError` asking for ``microamp db upgrade``.
    ``recover`` marks as ``interrupted`` every running record whose recorder is gone.
    Raises `InvalidValue` for a bad URL or setting.
    """
    from microamp.store.migrate import require_current, upgrade_to_head
    from microamp.store.recovery import recover_interrupted

    settings = settings or load_settings()
    store = Store(make_engine(settings.resolved_url(url), settings), settings)
    try:
        if upgrade:
            upgrade_to_head(store.engine)
        else:
            require_current(store.engine)
        if recover:
            with store.transaction() as session:
                recover_interrupted(session, stale_after_s=settings.stale_after_s)
    except BaseException:
        store.close()
        raise
    return store
