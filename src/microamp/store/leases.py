"""Device leases: one device, one session, enforced in the store so it holds across processes.

A device (by its identity, see `device_identity`) has at most one lease row: the unique
constraint on ``device`` does the mutual exclusion, on SQLite and PostgreSQL alike.

    with store.transaction() as db:
        got = acquire(db, device="sim://", holder=holder_token(), ttl_s=10, now=utc_now())
    if isinstance(got, Busy):
        ...                       # refuse: got.message names the device and the session
    ...                           # open the device only now; renew while the session runs
    with store.transaction() as db:
        release(db, got)

Acquiring is an ``INSERT ... ON CONFLICT DO NOTHING``; a row that is there already is taken
over only when it has lapsed, by a compare-and-set on its holder, so of any number of
processes racing for a device exactly one wins. A lapsed lease's session counts as
``interrupted``: its holder stopped renewing, so nothing vouches for it any more. A renewal
after the lease lapsed fails, and its holder must stop output.

Every function takes the caller's ORM session and leaves the commit to the caller. ``now`` is
passed in (wall time in UTC, the same on every host), so tests replay any order of events.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from microamp.devices.sim import sim_id
from microamp.devices.urls import parse_device_url
from microamp.errors import InvalidValue, StoreError
from microamp.store.recovery import interrupt_record, process_alive
from microamp.store.shared_models import DeviceLease

__all__ = [
    "DEFAULT_TTL_S",
    "Busy",
    "DeviceBusy",
    "Lease",
    "acquire",
    "attach",
    "current",
    "device_identity",
    "holder_gone_here",
    "holder_token",
    "release",
    "renew",
]

# A holder that dies keeps its device this long at most; renewed every quarter of it.
DEFAULT_TTL_S = 10.0
_LEASES = cast(Table, DeviceLease.__table__)
_LAPSED_REASON = "the device lease lapsed and another holder took the device"


@dataclass(frozen=True, slots=True)
class Lease:
    """A device held by ``holder`` until ``expires_at`` (UTC); ``took_over`` names the session
    of a lapsed lease this one replaced (now recorded as interrupted), if any."""

    device: str
    holder: str
    session_id: int | None
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime
    took_over: int | None = None


@dataclass(frozen=True, slots=True)
class Busy:
    """A device someone else holds: who, for which session, and until when at the latest."""

    device: str
    holder: str
    session_id: int | None
    expires_at: datetime

    @property
    def message(self) -> str:
        held = f"session {self.session_id}" if self.session_id is not None else "another session"
        return f"the device {self.device} is in use by {held}; stop that session first"

    def to_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "session_id": self.session_id,
            "expires_at": self.expires_at.isoformat(),
            "message": self.message,
        }


class DeviceBusy(StoreError):
    """A session may not start: its device is held by another session (API 409, CLI exit 1)."""

    def __init__(self, busy: Busy) -> None:
        self.busy = busy
        super().__init__(busy.message)


def device_identity(url: str) -> str:
    """The identity a device is leased under: its backend and location, without parameters.

    Parameters say how to talk to a device (``baud``) or, on the simulator, what skin it
    touches (``load``); they never make it another device. Every ``sim://`` URL without an
    ``id`` names the one default simulator; ``sim://?load=dry&id=room-2`` is ``sim://?id=room-2``,
    another simulator; ``serial:///dev/ttyACM0?baud=115200`` is ``serial:///dev/ttyACM0``.
    Raises `DeviceURLError` (an `InvalidValue`) for a malformed URL or simulator id.
    """
    parsed = parse_device_url(url)
    location = parsed.location.rstrip("/") if parsed.location != "/" else ""
    if parsed.backend == "sim":
        name = sim_id(parsed)
        return f"sim://?id={name}" if name else "sim://"
    return f"{parsed.backend}://{location}"


def holder_token() -> str:
    """A holder name unique to one acquisition: host, process and a random part."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(8)}"


def holder_gone_here(holder: str) -> bool:
    """Whether ``holder`` (a `holder_token`) was a process of this host that no longer exists:
    a server killed mid-session then frees its device at once, not only when the lease lapses."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname()[:120] and pid.isdigit() and not process_alive(int(pid))


def _lease(row: DeviceLease, took_over: int | None = None) -> Lease:
    return Lease(
        row.device,
        row.holder,
        row.session_id,
        row.acquired_at,
        row.renewed_at,
        row.expires_at,
        took_over,
    )


def _row(db: Session, device: str) -> DeviceLease | None:
    found = db.execute(
        select(DeviceLease)
        .where(DeviceLease.device == device)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return found


def _check(ttl_s: float, now: datetime) -> None:
    if not 0 < ttl_s <= 3600:
        raise InvalidValue("ttl_s", ttl_s, "a lease lasts more than 0 and at most 3600 s")
    if now.tzinfo is None:
        raise InvalidValue("now", now, "must be timezone-aware (UTC)")


def _insert_if_free(db: Session, values: dict[str, object]) -> bool:
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(_LEASES)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["device"])
        .returning(_LEASES.c.id)
    )
    # RETURNING, not rowcount: a row comes back only when this statement inserted it.
    return db.execute(statement).first() is not None


def acquire(
    db: Session,
    *,
    device: str,
    holder: str,
    ttl_s: float = DEFAULT_TTL_S,
    now: datetime,
    session_id: int | None = None,
    holder_gone: Callable[[str], bool] = lambda _holder: False,
) -> Lease | Busy:
    """Hold ``device`` for ``holder`` until ``now + ttl_s``, or say who holds it.

    A lease that lapsed (``expires_at <= now``), or whose holder ``holder_gone`` says is gone
    (see `holder_gone_here`), is taken over; its session's record, if still running, becomes
    ``interrupted``. A holder that asks again while it holds the device gets
    `Busy`: a lease is not re-entrant. Raises `InvalidValue` for a bad ``ttl_s`` or ``now``.
    """
    _check(ttl_s, now)
    expires_at = now + timedelta(seconds=ttl_s)
    values: dict[str, object] = {
        "device": device, "holder": holder, "session_id": session_id,
        "acquired_at": now, "renewed_at": now, "expires_at": expires_at,
    }  # fmt: skip
    # The INSERT comes first: on SQLite it takes the write lock, so what follows is serialised.
    for _attempt in range(3):
        if _insert_if_free(db, values):
            return Lease(device, holder, session_id, now, now, expires_at)
        row = _row(db, device)
        if row is None:  # released between the two statements: try the insert again
            continue
        gone = holder_gone(row.holder)
        if row.expires_at > now and not gone:
            return Busy(row.device, row.holder, row.session_id, row.expires_at)
        previous = row.session_id
        still_held = _LEASES.c.holder == row.holder
        taken = db.execute(
            update(_LEASES)
            .where(
                _LEASES.c.device == device,
                still_held if gone else still_held & (_LEASES.c.expires_at <= now),
            )
            .values(**values)
        ).rowcount  # type: ignore[attr-defined]
        if taken:
            if previous is not None:
                interrupt_record(db, previous, now=now, reason=_LAPSED_REASON)
            return Lease(device, holder, session_id, now, now, expires_at, previous)
    row = _row(db, device)
    if row is None:
        raise StoreError(f"the lease of {device} kept changing; try again")
    return Busy(row.device, row.holder, row.session_id, row.expires_at)


def renew(
    db: Session, lease: Lease, *, ttl_s: float = DEFAULT_TTL_S, now: datetime
) -> Lease | None:
    """The lease extended to ``now + ttl_s``; None if it was lost (released, lapsed or taken
    over), and then its holder must stop."""
    _check(ttl_s, now)
    expires_at = now + timedelta(seconds=ttl_s)
    renewed = db.execute(
        update(_LEASES)
        .where(
            _LEASES.c.device == lease.device,
            _LEASES.c.holder == lease.holder,
            _LEASES.c.expires_at > now,
        )
        .values(renewed_at=now, expires_at=expires_at)
    ).rowcount  # type: ignore[attr-defined]
    if not renewed:
        return None
    return Lease(lease.device, lease.holder, lease.session_id, lease.acquired_at, now, expires_at)


def attach(db: Session, lease: Lease, *, session_id: int) -> Lease | None:
    """The lease naming the session record it runs (so a refusal can name it); None if lost."""
    attached = db.execute(
        update(_LEASES)
        .where(_LEASES.c.device == lease.device, _LEASES.c.holder == lease.holder)
        .values(session_id=session_id)
    ).rowcount  # type: ignore[attr-defined]
    if not attached:
        return None
    return Lease(
        lease.device,
        lease.holder,
        session_id,
        lease.acquired_at,
        lease.renewed_at,
        lease.expires_at,
        lease.took_over,
    )


def release(db: Session, lease: Lease) -> bool:
    """Give the device up; False if this holder no longer held it (nothing else changes)."""
    released = db.execute(
        delete(_LEASES).where(_LEASES.c.device == lease.device, _LEASES.c.holder == lease.holder)
    ).rowcount  # type: ignore[attr-defined]
    return bool(released)


def current(db: Session, *, device: str, now: datetime) -> Lease | None:
    """The lease that holds ``device`` at ``now``; None when the device is free (or lapsed)."""
    row = _row(db, device)
    if row is None or row.expires_at <= now:
        return None
    return _lease(row)
