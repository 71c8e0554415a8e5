"""The sign-in throttle in the store: its rule, and its charge under concurrent tries on both
databases (at most ``free`` tries pass before the first wait, however many arrive at once)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from microamp.store import Store, StoreSettings, open_store
from microamp.store.throttle import ThrottleRule, charge_try, clear_key, refund_try, throttle_key

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RULE = ThrottleRule(free=3, window_s=600, base_s=2.0, cap_s=60.0)


@given(
    free=st.integers(1, 50),
    base_s=st.floats(0.1, 100),
    cap_s=st.floats(1, 3600),
    failures=st.integers(0, 10_000),
)
def test_the_wait_grows_never_shrinks_and_never_passes_the_cap(
    free: int, base_s: float, cap_s: float, failures: int
) -> None:
    rule = ThrottleRule(free=free, window_s=60, base_s=base_s, cap_s=cap_s)
    wait = rule.wait_after(failures)
    assert wait <= timedelta(seconds=cap_s)
    assert rule.wait_after(failures + 1) >= wait
    if failures < free:
        assert wait == timedelta(0)
    else:
        assert wait > timedelta(0)


def test_free_tries_pass_then_each_waits_twice_as_long(store: Store) -> None:
    key = throttle_key("account", "Ana@Clinic.example")
    with store.session() as db:
        assert [charge_try(db, key, rule=RULE, now=T0).allowed for _ in range(3)] == [True] * 3
        refused = charge_try(db, key, rule=RULE, now=T0 + timedelta(seconds=1))
        assert not refused.allowed and refused.retry_after_s == 1
        assert charge_try(db, key, rule=RULE, now=T0 + timedelta(seconds=2)).allowed
        # the 4th try was charged: the next waits 4 s after it
        assert charge_try(db, key, rule=RULE, now=T0 + timedelta(seconds=5)).retry_after_s == 1
        assert charge_try(db, key, rule=RULE, now=T0 + timedelta(seconds=6)).allowed


def test_an_account_key_ignores_case_and_a_window_without_tries_forgives(store: Store) -> None:
    with store.session() as db:
        for _ in range(3):
            charge_try(db, throttle_key("account", "ana@x.example"), rule=RULE, now=T0)
        upper = throttle_key("account", " ANA@x.example ")
        assert not charge_try(db, upper, rule=RULE, now=T0).allowed
        later = T0 + timedelta(seconds=RULE.window_s + 120)
        assert all(charge_try(db, upper, rule=RULE, now=later).allowed for _ in range(3))


def test_clearing_a_key_lets_the_next_try_through_at_once(store: Store) -> None:
    key = throttle_key("account", "ben@x.example")
    with store.session() as db:
        for _ in range(4):
            charge_try(db, key, rule=RULE, now=T0)
        assert not charge_try(db, key, rule=RULE, now=T0).allowed
        clear_key(db, key, now=T0)
        db.commit()
        assert charge_try(db, key, rule=RULE, now=T0).allowed


def test_a_refund_gives_one_try_back(store: Store) -> None:
    key = throttle_key("address", "10.0.0.7")
    with store.session() as db:
        for _ in range(3):
            charge_try(db, key, rule=RULE, now=T0)
        refund_try(db, key, rule=RULE)
        db.commit()
        assert charge_try(db, key, rule=RULE, now=T0).allowed
        assert not charge_try(db, key, rule=RULE, now=T0).allowed


def test_a_hundred_concurrent_tries_pass_no_more_than_the_free_ones(
    database_url: str, settings: StoreSettings
) -> None:
    # twenty connections opened at once: on a loaded machine PostgreSQL may take longer than
    # the 2 s default to start a backend for each, and that is not what is tested here
    patient = settings.model_copy(update={"db_connect_timeout_s": 30})
    with open_store(database_url, settings=patient, upgrade=True) as store:
        _a_hundred_tries_at_once(store)


def _a_hundred_tries_at_once(store: Store) -> None:
    key = throttle_key("account", "owner@x.example")
    rule = ThrottleRule(free=5, window_s=600, base_s=600, cap_s=600)
    start = threading.Barrier(20)
    passed: list[bool] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        with store.session() as db:
            if n < 20:
                start.wait()
            verdict = charge_try(db, key, rule=rule, now=T0)
        with lock:
            passed.append(verdict.allowed)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(passed) == 100
    assert sum(passed) == 5
