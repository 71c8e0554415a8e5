"""Pause, resume and stop: ramps down and up, zero while paused, stop at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import Event, Operator, SessionRunner, SessionStatus

HOME = get_profile("home")


def started(runner: SessionRunner, until_s: float) -> None:
    assert runner.start()
    while runner.position_s < until_s:
        runner.tick()


def test_pause_ramps_down_holds_zero_and_resume_ramps_back_up(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), device, profile=HOME, subscribers=[events.append])
    started(runner, 2.5)  # mid-hold of the first repetition, at full level
    assert runner.level == 1.0
    runner.pause()
    levels = []
    for _ in range(40):
        runner.tick()
        levels.append(runner.level)
    assert runner.status is SessionStatus.PAUSED
    ramp = levels[: levels.index(0.0) + 1]
    assert len(ramp) >= 15 and ramp == sorted(ramp, reverse=True)  # about 0.75 s, no step
    assert device.command is None
    position = runner.position_s
    frames_paused = device.poll()
    assert all(f.peak_ua == 0.0 for f in frames_paused)

    runner.resume()
    runner.tick()
    assert runner.position_s > position  # carries on where it paused
    assert 0.0 < runner.level <= 0.1  # from zero again, not a step back to full level
    while runner.level < 1.0:
        runner.tick()
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED
    paused = [e.to_dict() for e in events if e.kind in ("paused", "resumed")]
    assert [p["kind"] for p in paused] == ["paused", "resumed"]
    assert paused[1]["paused_s"] >= 40 * 0.05 - 1e-6


def test_stop_zeroes_output_at_once_and_ends_stopped(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), device, profile=HOME, subscribers=[events.append])
    started(runner, 2.5)
    runner.stop()
    runner.tick()
    assert runner.status is SessionStatus.STOPPED
    assert device.command is None
    sent = len(device.commands)
    for _ in range(10):
        runner.tick()
    assert len(device.commands) == sent
    assert events[-1].kind == "ended" and events[-1].to_dict()["status"] == "stopped"
    assert runner.summary().steps_completed == 0


def test_stop_while_paused_ends_the_session(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)
    started(runner, 1.0)
    runner.pause()
    runner.tick()
    runner.stop()
    summary = runner.run()
    assert summary.status is SessionStatus.STOPPED


def test_a_subscriber_may_stop_the_session_from_an_event(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)

    def stop_at_second_step(event: Event) -> None:
        if event.kind == "step_started" and event.to_dict()["position"] == 1:
            runner.stop()

    runner.subscribe(stop_at_second_step)
    summary = runner.run()
    assert summary.status is SessionStatus.STOPPED
    assert summary.steps_completed == 1


def test_every_control_names_its_operator_in_the_event(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    dana = Operator("Dana Reyes", 7, "web")
    sam = Operator("Sam Okafor", 9, "api")
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    started(runner, 2.0)
    runner.pause(dana)
    runner.tick()
    runner.set_intensity(0.5, sam)
    runner.tick()
    runner.resume(sam)
    runner.tick()
    runner.stop(dana)
    runner.tick()
    by_kind = {e.kind: e.to_dict() for e in events}
    assert by_kind["paused"]["operator"] == {"user_id": 7, "name": "Dana Reyes", "via": "web"}
    assert by_kind["paused"]["reason"] == "paused by Dana Reyes"
    assert by_kind["intensity_changed"]["operator"]["name"] == "Sam Okafor"
    assert by_kind["resumed"]["operator"]["user_id"] == 9
    assert by_kind["ended"]["status"] == "stopped"
    assert by_kind["ended"]["reason"] == "stopped by Dana Reyes"
    assert by_kind["ended"]["operator"]["user_id"] == 7
