"""A hypothesis state machine over one device's lease: holders acquire, renew, release and let
time pass in any order, and at no moment do two holders both hold the device; the store agrees
with the model of who holds it."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import delete

from microamp.store import Store, StoreSettings, open_store
from microamp.store.leases import Busy, Lease, acquire, current, release, renew
from microamp.store.shared_models import DeviceLease

HOLDERS = ("a", "b", "c")
DEVICE = "serial:///dev/ttyACM0"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_DIR = Path(tempfile.mkdtemp(prefix="microamp-lease-"))
_STORE: Store | None = None


def shared_store() -> Store:
    """One migrated SQLite file for every example (migrating per example would dominate)."""
    global _STORE
    if _STORE is None:
        _STORE = open_store(
            f"sqlite:///{_DIR / 'leases.db'}",
            settings=StoreSettings(data_dir=_DIR, database_url=None),
            upgrade=True,
        )
    return _STORE


class LeaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = shared_store()
        with self.store.transaction() as db:
            db.execute(delete(DeviceLease))
        self.now_s = 0.0
        self.leases: dict[str, Lease] = {}  # what each holder believes it holds

    @property
    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.now_s)

    def believed(self) -> list[str]:
        return [h for h, lease in self.leases.items() if lease.expires_at > self.now]

    @rule(holder=st.sampled_from(HOLDERS), ttl_s=st.sampled_from([1.0, 2.5, 10.0]))
    def acquire(self, holder: str, ttl_s: float) -> None:
        was_free = not self.believed()
        with self.store.transaction() as db:
            got = acquire(db, device=DEVICE, holder=holder, ttl_s=ttl_s, now=self.now)
        assert isinstance(got, Lease) == was_free
        if isinstance(got, Lease):
            for other in list(self.leases):
                del self.leases[other]  # anyone else's lapsed belief is gone with its lease
            self.leases[holder] = got
        else:
            assert isinstance(got, Busy)

    @rule(holder=st.sampled_from(HOLDERS), ttl_s=st.sampled_from([1.0, 2.5, 10.0]))
    def renew(self, holder: str, ttl_s: float) -> None:
        lease = self.leases.get(holder)
        if lease is None:
            return
        with self.store.transaction() as db:
            renewed = renew(db, lease, ttl_s=ttl_s, now=self.now)
        assert (renewed is not None) == (lease.expires_at > self.now)
        if renewed is None:
            del self.leases[holder]
        else:
            self.leases[holder] = renewed

    @rule(holder=st.sampled_from(HOLDERS))
    def release(self, holder: str) -> None:
        lease = self.leases.pop(holder, None)
        if lease is None:
            return
        with self.store.transaction() as db:
            assert release(db, lease)

    @rule(seconds=st.floats(min_value=0.0, max_value=6.0, allow_nan=False))
    def wait(self, seconds: float) -> None:
        self.now_s += seconds

    @invariant()
    def never_two_holders_and_the_store_agrees(self) -> None:
        holding = self.believed()
        assert len(holding) <= 1
        with self.store.session() as db:
            found = current(db, device=DEVICE, now=self.now)
        assert (found.holder if found else None) == (holding[0] if holding else None)


LeaseMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25)
test_one_device_never_has_two_holders = LeaseMachine.TestCase
