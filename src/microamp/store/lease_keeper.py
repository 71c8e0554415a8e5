"""`LeaseKeeper`: holds a device lease for one session, renewing it by heartbeat until released.

    keeper = LeaseKeeper.acquire(store, device_url, on_lost=runner.stop)   # DeviceBusy if held
    try:
        ...open the device, start the record...
        keeper.attach(record_id)
        keeper.start()                 # heartbeat thread: renews every ttl_s / 4
        runner.run()
    finally:
        keeper.release()

A renewal that fails (the lease lapsed and was taken, or the store cannot be reached for longer
than the lease lasts) calls ``on_lost`` once: the session must stop, because another process
may already be driving the device. Wall time comes from ``wall`` (UTC), injectable for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from microamp.store.base import utc_now
from microamp.store.db import Store
from microamp.store.leases import (
    DEFAULT_TTL_S,
    Busy,
    DeviceBusy,
    Lease,
    acquire,
    attach,
    device_identity,
    holder_gone_here,
    holder_token,
    release,
    renew,
)

__all__ = ["LeaseKeeper"]


class LeaseKeeper:
    """One session's hold on one device."""

    def __init__(
        self,
        store: Store,
        lease: Lease,
        *,
        ttl_s: float,
        on_lost: Callable[[], None],
        wall: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.lease = lease
        self.ttl_s = ttl_s
        self.lost = False
        self.on_lost = on_lost
        self._wall = wall
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def acquire(
        cls,
        store: Store,
        device_url: str,
        *,
        on_lost: Callable[[], None] = lambda: None,
        ttl_s: float = DEFAULT_TTL_S,
        wall: Callable[[], datetime] = utc_now,
    ) -> LeaseKeeper:
        """Hold the device of ``device_url`` (taking it from a dead process of this host at
        once); raises `DeviceBusy` naming the session that holds it, `InvalidValue` for a
        malformed URL."""
        device = device_identity(device_url)
        with store.transaction() as db:
            got = acquire(db, device=device, holder=holder_token(), ttl_s=ttl_s, now=wall(),
                          holder_gone=holder_gone_here)  # fmt: skip
        if isinstance(got, Busy):
            raise DeviceBusy(got)
        return cls(store, got, ttl_s=ttl_s, on_lost=on_lost, wall=wall)

    @property
    def took_over(self) -> int | None:
        """The session of a lapsed lease this one replaced (recorded as interrupted), if any."""
        return self.lease.took_over

    def attach(self, session_id: int) -> None:
        """Name the session record the lease runs, so a refused start can name it."""
        with self._lock, self.store.transaction() as db:
            attached = attach(db, self.lease, session_id=session_id)
        if attached is None:
            self._lose()
        else:
            self.lease = attached

    def start(self) -> None:
        """Renew every ``ttl_s / 4`` in a thread until `release`."""
        self._thread = threading.Thread(
            target=self._beat, name=f"lease-{self.lease.device}", daemon=True
        )
        self._thread.start()

    def renew_now(self) -> bool:
        """One renewal; False (and ``on_lost`` called) if the lease was lost."""
        with self._lock:
            if self.lost or self._stopped.is_set():
                return not self.lost
            try:
                with self.store.transaction() as db:
                    renewed = renew(db, self.lease, ttl_s=self.ttl_s, now=self._wall())
            except SQLAlchemyError:
                # The store is out of reach: keep trying while the lease may still be ours.
                if self._wall() < self.lease.expires_at:
                    return True
                renewed = None
            if renewed is not None:
                self.lease = renewed
                return True
        self._lose()
        return False

    def _beat(self) -> None:
        while not self._stopped.wait(self.ttl_s / 4):
            if not self.renew_now():
                return

    def _lose(self) -> None:
        if not self.lost:
            self.lost = True
            self.on_lost()

    def release(self) -> None:
        """Stop the heartbeat and give the device up (a lost lease is left to its new holder)."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        if self.lost:
            return
        try:
            with self._lock, self.store.transaction() as db:
                release(db, self.lease)
        except SQLAlchemyError:
            # the store is out of reach: the lease lapses by itself within ttl_s
            self.lost = True
