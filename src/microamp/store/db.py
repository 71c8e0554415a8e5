"""Opening the record store: an engine per URL, SQLite tuned for a clinic, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed event survives the process
being killed, readers never block the writer, and each commit stays well under a millisecond.
Foreign keys are switched on, as PostgreSQL always has them. The database file is created
with mode 0600 (see `microamp.store.files`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from microamp.store.config import StoreSettings, load_settings
from microamp.store.files import ensure_private_file

__all__ = ["Store", "make_engine", "open_store", "postgres_connect_args"]


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
        return create_engine(
            url, pool_pre_ping=True, connect_args=postgres_connect_args(settings), **pool
        )
    # made here, 0600 in a 0700 directory, before SQLite would create it under the umask; its
    # -wal and -shm files take the database file's mode
    ensure_private_file(Path(parsed.database or ""))
    engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_s}, **pool)
    event.listen(engine, "connect", _tune_sqlite)
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


def _tune_sqlite(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


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

    def apart(self, pool_size: int) -> Store:
        """Another store on the same database with a pool of ``pool_size`` connections of its
        own: what runs a device (an embedded station) never waits behind the pages' requests
        for a connection. Close it when done."""
        settings = self.settings.model_copy(update={"db_pool_size": pool_size})
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
