"""`StoreSettings`: where the records live and how sessions are recorded, refusing unsafe values.

Read from the environment (``MICROAMP_DATABASE_URL``, ``MICROAMP_DATA_DIR``,
``MICROAMP_TELEMETRY_HZ``, ...) or passed in. A database URL given on the command line wins over
the environment, which wins over the default: a SQLite file in the user's data directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from platformdirs import user_data_dir
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from microamp.errors import InvalidValue, InvalidValues

__all__ = ["StoreSettings", "load_settings", "normalise_url"]

# psycopg 3 is the PostgreSQL driver microamp ships with; spellings people type map onto it.
_POSTGRES_ALIASES = {"postgres", "postgresql", "postgresql+psycopg"}
_SQLITE_ALIASES = {"sqlite", "sqlite+pysqlite"}


def _default_data_dir() -> Path:
    return Path(user_data_dir("microamp", appauthor=False))


class StoreSettings(BaseSettings):
    """Settings of the record store. Units are in the names; every bound says why it exists."""

    model_config = SettingsConfigDict(env_prefix="MICROAMP_", extra="ignore", frozen=True)

    database_url: str | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Downsampled telemetry kept with a record: enough for a chart and a review, small on disk.
    telemetry_hz: Annotated[float, Field(gt=0, le=100)] = 4.0
    # A crash loses at most this much telemetry (device time); events are never buffered.
    telemetry_flush_s: Annotated[float, Field(ge=0.5, le=60)] = 5.0
    # A `running` record from another host with no write for this long counts as interrupted.
    stale_after_s: Annotated[float, Field(ge=30, le=86_400)] = 300.0
    sqlite_busy_timeout_s: Annotated[float, Field(gt=0, le=120)] = 15.0
    # Connections one process keeps to the store. A web worker runs at most `request_threads`
    # requests at once (its thread pool is sized to match, see `microamp.web.app`), each holding
    # one connection, plus `db_pool_reserve` for its own passes (mail, checkpoints, station):
    # a page read then waits for a thread, never for a connection.
    request_threads: Annotated[int, Field(ge=1, le=200)] = 40
    db_pool_reserve: Annotated[int, Field(ge=0, le=50)] = 5
    # A request that still finds no free connection (a pool set smaller than the threads) waits
    # this long, then is answered 503 with Retry-After: a Stop is pressed again, never a 500.
    db_pool_timeout_s: Annotated[float, Field(gt=0, le=30)] = 2.0
    db_pool_size: Annotated[int | None, Field(ge=1, le=250)] = None
    # PostgreSQL: a host that does not answer is given up after this long; a connection that
    # goes silent (cable pulled, host gone without a reset) is found dead by TCP keepalive
    # within db_keepalive_idle_s + db_keepalive_count x db_keepalive_interval_s, and nothing
    # unacknowledged waits longer than db_tcp_user_timeout_s.
    db_connect_timeout_s: Annotated[int, Field(ge=2, le=120)] = 2
    db_keepalive_idle_s: Annotated[int, Field(ge=1, le=600)] = 5
    db_keepalive_interval_s: Annotated[int, Field(ge=1, le=60)] = 2
    db_keepalive_count: Annotated[int, Field(ge=1, le=20)] = 3
    db_tcp_user_timeout_s: Annotated[int, Field(ge=1, le=600)] = 10
    # PostgreSQL: one statement, or a wait for a lock, gives up after this long: a station's
    # write never hangs behind a stuck lock; it fails, and the station journals it.
    db_statement_timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    db_lock_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    # PostgreSQL: a station's connection whose request the server leaves unanswered for longer
    # than this is cut as dead (`HoldWatch`): a link gone silent is found within it, so output
    # stops within the command expiry (2 s). Time a connection is merely held does not count.
    station_hold_s: Annotated[float, Field(ge=0.2, le=10)] = 1.0
    # The key that seals audit rows; kept out of the database so its login cannot re-seal them.
    # Unset: a random key is created once in ``<data_dir>/audit.key`` (0600).
    audit_key: str | None = None
    # Signed chain heads, appended outside the database; unset: ``<data_dir>/audit-checkpoints.jsonl``
    audit_checkpoints: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _url_is_safe(cls, value: str | None) -> str | None:
        return None if value is None else normalise_url(value)

    def resolved_url(self, explicit: str | None = None) -> str:
        """The URL to open: ``explicit`` (e.g. ``--database``), then the environment, then the
        default SQLite file ``<data_dir>/microamp.db``."""
        if explicit:
            return normalise_url(explicit)
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'microamp.db'}"

    @property
    def pool_size(self) -> int:
        """Connections kept open: `db_pool_size` if set, else one per request thread plus
        the reserve."""
        return self.db_pool_size or self.request_threads + self.db_pool_reserve

    @property
    def audit_checkpoints_path(self) -> Path:
        """The append-only file of signed audit chain heads."""
        return self.audit_checkpoints or self.data_dir / "audit-checkpoints.jsonl"

    @property
    def photos_dir(self) -> Path:
        """Where an older microamp wrote progress photos; they are kept in the database now
        (`microamp.store.photo_blobs`), and ``microamp doctor`` still checks this folder."""
        return self.data_dir / "photos"


def normalise_url(raw: str) -> str:
    """Check a database URL and name its driver; raises `InvalidValue` on anything unsafe.

    Refused: unknown back ends, and an in-memory SQLite database (a record that vanishes when
    the process ends is no record).
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise InvalidValue("database", raw, "is not a database URL") from None
    if url.drivername in _POSTGRES_ALIASES:
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if url.drivername in _SQLITE_ALIASES:
        _check_sqlite(raw, url)
        return url.set(drivername="sqlite").render_as_string(hide_password=False)
    raise InvalidValue(
        "database", _shown(url), "must be sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


def _check_sqlite(raw: str, url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise InvalidValue(
            "database", raw, "an in-memory SQLite database would lose every record on exit"
        )


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def load_settings(**overrides: object) -> StoreSettings:
    """Settings from the environment and ``overrides``; `InvalidValues` naming each bad setting."""
    try:
        return StoreSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise InvalidValues(_as_invalid(err) for err in exc.errors()) from None


def _as_invalid(err: Mapping[str, Any]) -> InvalidValue:
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, InvalidValue):
        return inner
    field = ".".join(str(part) for part in err["loc"]) or "settings"
    return InvalidValue(field, err.get("input"), str(err["msg"]))
