from __future__ import annotations

import math
import threading
import time

import pytest

from microamp.clock import PacedClock, RealClock, SimulatedClock, Wakeable
from microamp.errors import InvalidValue


def test_simulated_time_moves_only_when_told() -> None:
    clock = SimulatedClock()
    assert clock.now() == 0.0
    clock.sleep(1.5)
    clock.advance(0.25)
    clock.sleep(-3.0)
    assert clock.now() == 1.75


def test_paced_time_counts_only_what_was_slept_not_the_host_s_own_work() -> None:
    clock = PacedClock(speed=1000.0)
    for _ in range(10):
        time.sleep(0.002)  # host work: never session time
        clock.sleep(0.5)
    assert clock.now() == pytest.approx(5.0)


@pytest.mark.parametrize("speed", [0.0, -1.0, math.nan, math.inf])
def test_a_clock_refuses_a_speed_that_is_not_a_positive_number(speed: float) -> None:
    with pytest.raises(InvalidValue):
        PacedClock(speed)
    with pytest.raises(InvalidValue):
        RealClock(speed)


def test_real_time_runs_forward_by_its_speed() -> None:
    clock = RealClock(speed=50.0)
    before = clock.now()
    clock.sleep(0.5)  # 10 ms of wall time
    assert clock.now() - before >= 0.5


def test_a_paced_clock_absorbs_the_host_work_between_sleeps() -> None:
    clock = PacedClock(speed=1.0)
    started = time.monotonic()
    for _ in range(20):
        time.sleep(0.005)  # host work: absorbed by the next sleep's wall deadline
        clock.sleep(0.02)
    wall_s = time.monotonic() - started
    assert clock.now() == pytest.approx(0.4)
    # a fixed-length sleep would take 20 x (5 + 20) ms = 0.5 s at least
    assert wall_s < 0.47


def test_a_paced_clock_behind_by_a_stall_does_not_race_through_it() -> None:
    clock = PacedClock(speed=1.0)
    time.sleep(0.5)  # a stall: forgiven beyond CATCH_UP_S
    started = time.monotonic()
    for _ in range(6):
        clock.sleep(0.05)
    assert time.monotonic() - started >= 0.3 - PacedClock.CATCH_UP_S - 0.01


def test_a_paced_sleep_ends_at_once_when_woken_and_counts_only_what_passed() -> None:
    clock = PacedClock(speed=1.0)
    wake = threading.Event()
    wake.set()
    started = time.monotonic()
    slept_s = clock.sleep_or_wake(5.0, wake)
    assert time.monotonic() - started < 2.5  # not the 5 s asked for
    assert 0.0 <= slept_s < 2.5 and clock.now() == pytest.approx(slept_s)
    # not woken: the whole sleep, as `sleep`
    assert clock.sleep_or_wake(0.02, threading.Event()) == 0.02
    assert clock.now() == pytest.approx(slept_s + 0.02)


def test_a_real_sleep_ends_when_woken_from_another_thread() -> None:
    clock = RealClock()
    wake = threading.Event()
    threading.Timer(0.05, wake.set).start()
    assert clock.sleep_or_wake(30.0, wake) < 15.0


def test_only_clocks_that_wait_can_be_woken() -> None:
    assert isinstance(PacedClock(1.0), Wakeable) and isinstance(RealClock(), Wakeable)
    assert not isinstance(SimulatedClock(), Wakeable)
