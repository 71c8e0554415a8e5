"""Device leases: one holder per device at any moment, across threads and processes, on
SQLite and PostgreSQL; a lapsed lease is taken over and its session recorded as interrupted."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Barrier

import pytest

from microamp.devices import open_device
from microamp.errors import InvalidValue
from microamp.store import SessionRecorder, Store, StoreSettings
from microamp.store.lease_keeper import LeaseKeeper
from microamp.store.leases import (
    Busy,
    DeviceBusy,
    Lease,
    acquire,
    attach,
    current,
    device_identity,
    holder_gone_here,
    holder_token,
    release,
    renew,
)
from microamp.store.records import get_session_record

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEVICE = "sim://"
CHILD = Path(__file__).with_name("lease_child.py")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def take(store: Store, holder: str, now_s: float, ttl_s: float = 10.0) -> Lease | Busy:
    with store.transaction() as db:
        return acquire(db, device=DEVICE, holder=holder, ttl_s=ttl_s, now=at(now_s))


def test_a_free_device_is_leased_and_a_second_holder_is_told_who_holds_it(store: Store) -> None:
    first = take(store, "a", 0)
    assert isinstance(first, Lease)
    with store.transaction() as db:
        attached = attach(db, first, session_id=42)
    assert attached is not None and attached.session_id == 42
    second = take(store, "b", 1)
    assert isinstance(second, Busy)
    assert second.session_id == 42
    assert "sim://" in second.message and "session 42" in second.message


def test_a_holder_asking_again_is_busy_too(store: Store) -> None:
    assert isinstance(take(store, "a", 0), Lease)
    assert isinstance(take(store, "a", 1), Busy)


def test_a_released_device_is_free_for_the_next_session(store: Store) -> None:
    first = take(store, "a", 0)
    assert isinstance(first, Lease)
    with store.transaction() as db:
        assert release(db, first)
        assert current(db, device=DEVICE, now=at(1)) is None
    assert isinstance(take(store, "b", 1), Lease)


def test_renewal_keeps_the_lease_past_its_first_expiry(store: Store) -> None:
    lease = take(store, "a", 0)
    assert isinstance(lease, Lease)
    with store.transaction() as db:
        renewed = renew(db, lease, ttl_s=10, now=at(8))
    assert renewed is not None and renewed.expires_at == at(18)
    assert isinstance(take(store, "b", 12), Busy)


def test_a_lapsed_lease_is_taken_over_and_its_session_counts_as_interrupted(
    store: Store,
) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift", device_url="sim://?load=gel")
    old = take(store, "a", 0)
    assert isinstance(old, Lease)
    with store.transaction() as db:
        attach(db, old, session_id=recorder.session_id)
    assert isinstance(take(store, "b", 9.9), Busy)
    new = take(store, "b", 10)
    assert isinstance(new, Lease)
    assert new.took_over == recorder.session_id
    with store.session() as db:
        record = get_session_record(db, session_id=recorder.session_id)
        assert record.status == "interrupted"
        assert "lease lapsed" in record.events[-1].data["reason"]
    with store.transaction() as db:
        assert renew(db, old, now=at(11)) is None, "the old holder must learn it lost the device"
        assert not release(db, old), "the old holder must not free the new holder's device"
        holding = current(db, device=DEVICE, now=at(11))
        assert holding is not None and holding.holder == "b"


def test_a_lapsed_lease_cannot_be_renewed(store: Store) -> None:
    lease = take(store, "a", 0)
    assert isinstance(lease, Lease)
    with store.transaction() as db:
        assert renew(db, lease, now=at(10)) is None


def test_a_bad_ttl_or_a_naive_time_is_refused(store: Store) -> None:
    with store.transaction() as db, pytest.raises(InvalidValue, match="ttl_s"):
        acquire(db, device=DEVICE, holder="a", ttl_s=0, now=T0)
    with store.transaction() as db, pytest.raises(InvalidValue, match="now"):
        acquire(db, device=DEVICE, holder="a", ttl_s=5, now=datetime(2026, 12, 1))


@pytest.mark.parametrize(
    ("url", "identity"),
    [
        ("sim://?load=gel", "sim://"),
        ("sim://?load=dry&seed=3", "sim://"),
        ("sim://?load=dry&id=room-2", "sim://?id=room-2"),
        ("sim://?id=room-2&seed=4", "sim://?id=room-2"),
        ("serial:///dev/ttyACM0?baud=115200", "serial:///dev/ttyACM0"),
        ("SERIAL:///dev/ttyACM0", "serial:///dev/ttyACM0"),
        ("audio://default", "audio://default"),
    ],
)
def test_a_device_is_leased_by_backend_and_location_not_parameters(url: str, identity: str) -> None:
    assert device_identity(url) == identity


def test_two_simulators_with_their_own_ids_hold_leases_side_by_side(store: Store) -> None:
    one = LeaseKeeper.acquire(store, "sim://?id=room-1&load=gel")
    try:
        two = LeaseKeeper.acquire(store, "sim://?id=room-2&load=gel")
        two.release()
        with pytest.raises(DeviceBusy):
            LeaseKeeper.acquire(store, "sim://?load=dry&id=room-1")
    finally:
        one.release()


@pytest.mark.parametrize("bad", ["", "room 2", "x" * 41, "a/b"])
def test_a_simulator_id_outside_its_rule_is_refused_naming_id(bad: str) -> None:
    with pytest.raises(InvalidValue, match="id") as caught:
        device_identity(f"sim://?id={bad}")
    assert caught.value.field == "id"
    with pytest.raises(InvalidValue, match="id"):
        open_device(f"sim://?id={bad}")


def test_ten_threads_racing_for_one_device_leave_exactly_one_holder(store: Store) -> None:
    barrier = Barrier(10)

    def racer(n: int) -> bool:
        barrier.wait()
        return isinstance(take(store, f"holder-{n}", 0), Lease)

    with ThreadPoolExecutor(10) as pool:
        won = list(pool.map(racer, range(10)))
    assert won.count(True) == 1


def test_processes_racing_for_one_device_leave_exactly_one_holder(
    store: Store, database_url: str, settings: StoreSettings
) -> None:
    start_at = time.time() + 3.0
    racers = [
        subprocess.Popen(
            [sys.executable, str(CHILD), database_url, str(settings.data_dir), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(4)
    ]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["busy", "busy", "busy", "won"]


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(store: Store) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift", device_url="sim://?load=gel")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    holder = f"{socket.gethostname()[:120]}:{int(dead.stdout)}:0123"
    with store.transaction() as db:
        acquire(db, device=DEVICE, holder=holder, ttl_s=600, now=at(0),
                session_id=recorder.session_id)  # fmt: skip
    assert isinstance(take(store, "alive", 1), Busy), "without the check the lease stands"
    with store.transaction() as db:
        taken = acquire(db, device=DEVICE, holder=holder_token(), ttl_s=10, now=at(1),
                        holder_gone=holder_gone_here)  # fmt: skip
    assert isinstance(taken, Lease) and taken.took_over == recorder.session_id
    with store.transaction() as db:
        alive = acquire(db, device=DEVICE, holder=holder_token(), ttl_s=10, now=at(2),
                        holder_gone=holder_gone_here)  # fmt: skip
    assert isinstance(alive, Busy), "a living holder on this host keeps its device"


class _Wall:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_keeper_that_lost_its_lease_says_so_once_and_leaves_the_new_holder_alone(
    store: Store,
) -> None:
    wall, lost = _Wall(), []
    keeper = LeaseKeeper.acquire(store, "sim://?load=gel", ttl_s=5, wall=wall,
                                 on_lost=lambda: lost.append(True))  # fmt: skip
    wall.now = at(4)
    assert keeper.renew_now()
    with pytest.raises(DeviceBusy):
        LeaseKeeper.acquire(store, "sim://?load=dry", ttl_s=5, wall=wall)
    wall.now = at(10)
    other = LeaseKeeper.acquire(store, "sim://", ttl_s=5, wall=wall)
    assert not keeper.renew_now()
    assert not keeper.renew_now()
    assert lost == [True]
    keeper.release()
    with store.session() as db:
        holding = current(db, device=DEVICE, now=at(11))
        assert holding is not None and holding.holder == other.lease.holder
