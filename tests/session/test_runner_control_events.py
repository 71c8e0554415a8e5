"""Pause, resume and a new level as events: each names its moment, its step and what it did,
and a control that does not fit the state (a pause while paused, a resume while running) is a
no-op rather than a second event or a fresh ramp."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import Event, SessionRunner, SessionStatus

HOME = get_profile("home")


def started(runner: SessionRunner, until_s: float) -> None:
    assert runner.start()
    while runner.position_s < until_s:
        runner.tick()


def kinds(events: list[Event], kind: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in events if e.kind == kind]


def test_pause_and_resume_name_the_step_their_time_and_how_long_output_was_paused(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    started(runner, 2.5)
    runner.pause()
    runner.tick()
    paused_at_s = runner.t_s - runner.options.tick_s  # handled at the start of that tick
    for _ in range(30):
        runner.tick()
    runner.resume()
    runner.tick()
    resumed_at_s = runner.t_s - runner.options.tick_s
    [paused] = kinds(events, "paused")
    [resumed] = kinds(events, "resumed")
    assert paused["step"] == 0 and resumed["step"] == 0
    assert abs(paused["t_s"] - paused_at_s) < 1e-9
    assert abs(resumed["t_s"] - resumed_at_s) < 1e-9
    # the length of the pause, not the sum of its two ends
    assert abs(resumed["paused_s"] - 31 * runner.options.tick_s) < 1e-9


def test_a_second_pause_while_paused_neither_restarts_the_pause_nor_reports_it(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    started(runner, 2.5)
    runner.pause()
    for _ in range(10):
        runner.tick()
    runner.pause()
    for _ in range(10):
        runner.tick()
    runner.resume()
    runner.tick()
    assert len(kinds(events, "paused")) == 1
    [resumed] = kinds(events, "resumed")
    assert abs(resumed["paused_s"] - 20 * runner.options.tick_s) < 1e-9


def test_a_resume_while_running_leaves_the_output_at_its_level(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    started(runner, 2.5)
    assert runner.level == 1.0
    runner.resume()
    runner.tick()
    assert runner.status is SessionStatus.RUNNING
    assert runner.level == 1.0  # no ramp from zero as after a real pause
    assert kinds(events, "resumed") == []


def test_a_new_level_is_reported_at_the_time_it_was_taken(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    started(runner, 2.5)
    runner.set_intensity(0.5)
    taken_at_s = runner.t_s
    runner.tick()
    [changed] = kinds(events, "intensity_changed")
    assert changed["step"] == 0
    assert abs(changed["t_s"] - taken_at_s) < 1e-9


def test_output_ramped_down_by_a_pause_counts_toward_the_zone_and_the_hold_at_zero_does_not(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)
    started(runner, 2.5)
    zone = runner.planned[0].zone
    before = runner.ledger.zone(zone)
    runner.pause()
    while runner.level > 0.0:
        runner.tick()
    runner.tick()  # the tick on which output reached zero still measured current
    ramped = runner.ledger.zone(zone)
    assert ramped.charge_uc > before.charge_uc
    assert ramped.stimulation_s > before.stimulation_s
    for _ in range(20):
        runner.tick()
    held = runner.ledger.zone(zone)
    assert held.stimulation_s == ramped.stimulation_s
    assert held.charge_uc == ramped.charge_uc
