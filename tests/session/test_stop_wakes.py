"""A Stop, a pause or a level wakes the runner's wait (a Stop the contact check's too): on the
paced clock it is taken at once, not at the end of the tick; in simulated time nothing waits, and
the session runs as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from microamp.clock import PacedClock, SimulatedClock
from microamp.devices import open_device
from microamp.protocols.library import load_protocol
from microamp.safety.limits import get_profile
from microamp.session import Event, Operator, Prechecks, SessionOptions, SessionRunner
from microamp.session.prechecks import STOPPED

DEVICE = "sim://?load=gel"
DANA = Operator("Dana Reyes", 7, "web")


def _ended(events: list[Event]) -> dict[str, object]:
    assert events[-1].kind == "ended"
    return events[-1].to_dict()


def test_a_stop_from_another_thread_wakes_the_paced_runner_s_wait() -> None:
    protocol = load_protocol("pro-express")
    profile = get_profile(protocol.audience)
    # long ticks: a Stop that waited for the tick's end would be seen waiting
    options = SessionOptions(tick_s=0.1)
    device = open_device(DEVICE, clock=PacedClock(1.0), profile=profile)
    events: list[Event] = []
    runner = SessionRunner(protocol, device, profile=profile, options=options,
                           subscribers=[events.append])  # fmt: skip
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not (device.output_on and runner.snapshot().position_s > 0.2):
            assert time.monotonic() < deadline, "output never came on"
            time.sleep(0.005)
        runner.stop(DANA)
        thread.join(30)
    finally:
        device.close()
    ended = _ended(events)
    assert ended["status"] == "stopped" and not device.output_on
    heard, left_s = ended["stop_heard"], ended["wait_left_s"]
    assert heard in ("woke", "between")  # never "deadline": it did not wait out the tick
    # what it cut short: at most one tick (nothing when the host ran behind its pace)
    assert isinstance(left_s, float) and 0.0 <= left_s <= 0.1


class StopAt(SimulatedClock):
    """Simulated time that presses Stop during the sleep that passes ``at_s``."""

    def __init__(self, at_s: float) -> None:
        super().__init__()
        self.at_s = at_s
        self.press = lambda: None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now() >= self.at_s:
            self.press()
            self.press = lambda: None


def _stopped_in_simulated_time() -> list[Event]:
    protocol = load_protocol("pro-express")
    profile = get_profile(protocol.audience)
    clock = StopAt(12.34)
    events: list[Event] = []
    with open_device(DEVICE, clock=clock, profile=profile) as device:
        runner = SessionRunner(protocol, device, profile=profile, subscribers=[events.append])
        clock.press = lambda: runner.stop(DANA)
        runner.run()
    return events


def test_in_simulated_time_a_stop_is_taken_at_the_tick_s_end_the_same_every_run() -> None:
    first, second = _stopped_in_simulated_time(), _stopped_in_simulated_time()
    assert [e.to_dict() for e in first] == [e.to_dict() for e in second]
    ended = _ended(first)
    # a simulated clock never waits, so it is never woken: the tick ran to its end
    assert ended["stop_heard"] == "deadline" and ended["wait_left_s"] == 0.0
    assert ended["t_s"] == first[-1].t_s >= 12.34


def _paced_runner(
    speed: float, tick_s: float, prechecks: Prechecks | None = None
) -> tuple[SessionRunner, list[Event], threading.Thread]:
    protocol = load_protocol("pro-express")
    profile = get_profile(protocol.audience)
    device = open_device(DEVICE, clock=PacedClock(speed), profile=profile)
    events: list[Event] = []
    runner = SessionRunner(protocol, device, profile=profile, prechecks=prechecks,
                           options=SessionOptions(tick_s=tick_s), subscribers=[events.append])  # fmt: skip
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    return runner, events, thread


def _until(what: str, check: Callable[[], object]) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_a_stop_during_the_contact_check_wakes_its_wait_and_zeroes_the_test_current() -> None:
    runner, events, thread = _paced_runner(1.0, 0.05)
    try:
        _until("the device probe done", lambda: any(
            e.kind == "precheck" and e.to_dict()["check"] == "device" for e in events))  # fmt: skip
        _until("the test current on", lambda: runner.device.output_on)
        runner.stop(DANA)
        thread.join(30)
    finally:
        runner.device.close()
    ended = _ended(events)
    assert ended["status"] == "stopped" and str(ended["reason"]).startswith(STOPPED)
    contact = [e.to_dict() for e in events if e.kind == "precheck"][-1]
    assert contact["check"] == "contact" and list(contact["reasons"]) == [STOPPED]
    # the Stop cut the contact check's wait short: it did not wait out a 50 ms tick
    assert ended["stop_heard"] == "woke", ended


def _off_the_tick_grid(t_s: float, tick_s: float) -> bool:
    """A paced runner's waits that run to their end move the clock in whole ticks: a time off
    that grid was reached by a wait cut short."""
    return abs(t_s / tick_s - round(t_s / tick_s)) > 1e-6


@pytest.mark.parametrize("control", ["pause", "level"])
def test_a_pause_or_a_level_wakes_the_paced_runner_s_wait(control: str) -> None:
    # slow pace and long ticks (0.2 s of wall each); no contact check, so time starts on the grid
    runner, events, thread = _paced_runner(0.5, 0.1, Prechecks(contact=None))
    kind = "paused" if control == "pause" else "intensity_changed"
    try:
        _until("output on", lambda: runner.device.output_on and runner.snapshot().position_s > 0.3)
        if control == "pause":
            runner.pause(DANA)
        else:
            runner.set_intensity(0.5, DANA)
        _until(kind, lambda: any(e.kind == kind for e in events))
        runner.stop(DANA)
        thread.join(30)
    finally:
        runner.device.close()
    taken = next(e for e in events if e.kind == kind)
    started = next(e for e in events if e.kind == "step_started")
    assert not _off_the_tick_grid(started.t_s, 0.1)
    # taken where the wait was cut short, not at the end of the tick
    assert _off_the_tick_grid(taken.t_s, 0.1), taken.to_dict()
