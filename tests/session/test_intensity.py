"""The operator's level during a session: through every limit of the step, at the next tick,
explained when a limit caps it, held over a pause, and never above what was asked."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import (
    Event,
    Prechecks,
    SessionOptions,
    SessionRunner,
    SessionStatus,
)

HOME = get_profile("home")
# frame peaks carry seeded measurement noise of 0.5 µA (s.d.)
NOISE_UA = 3.0


def runner_for(
    protocol: Protocol, device: Any, events: list[Event], **options: Any
) -> SessionRunner:
    return SessionRunner(
        protocol, device, profile=HOME, options=SessionOptions(**options),
        prechecks=Prechecks(contact=None), subscribers=[events.append],
    )  # fmt: skip


def tick_until(runner: SessionRunner, until_s: float) -> None:
    while runner.position_s < until_s and not runner.status.final:
        runner.tick()


def changes(events: list[Event]) -> list[dict[str, Any]]:
    return [e.to_dict() for e in events if e.kind == "intensity_changed"]


@pytest.mark.parametrize("level", [-0.1, 1.01, math.nan, math.inf, True, "0.5"])
def test_a_level_outside_0_to_1_is_refused_naming_the_level(
    open_sim: Any, small_protocol: Callable[..., Protocol], level: Any
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)
    with pytest.raises(InvalidValue) as caught:
        runner.set_intensity(level)
    assert caught.value.field == "level"


def test_a_new_level_takes_effect_at_the_next_tick(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    runner = runner_for(small_protocol(), device, events)
    assert runner.start()
    tick_until(runner, 2.5)  # mid-hold of the first repetition of the 300 µA neck step
    assert runner.level == 1.0
    runner.set_intensity(0.5)
    assert runner.level == 1.0  # nothing changes between ticks
    runner.tick()
    assert runner.level == 0.5
    assert device.commands[-1][1].commanded_ua == pytest.approx(150.0)
    [changed] = changes(events)
    assert changed["level"] == 0.5 and changed["step"] == 0
    assert changed["requested_ua"] == pytest.approx(150.0)
    assert changed["amplitude_ua"] == pytest.approx(150.0)
    assert changed["capped_by"] is None and changed["cap_reason"] == ""
    readout = runner.snapshot()
    assert readout.intensity == 0.5 and readout.amplitude_ua == pytest.approx(150.0)


def test_a_limit_that_caps_the_level_is_named_and_holds(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    runner = runner_for(small_protocol(), device, events, intensity=0.3, practitioner_max_ua=120.0)
    assert runner.start()
    tick_until(runner, 2.5)
    assert device.commands[-1][1].commanded_ua == pytest.approx(90.0)  # 0.3 of 300 µA
    assert runner.snapshot().cap_reason == ""
    runner.set_intensity(0.8)
    tick_until(runner, 4.0)
    [changed] = changes(events)
    assert changed["requested_ua"] == pytest.approx(240.0)
    assert changed["amplitude_ua"] == pytest.approx(120.0)
    assert changed["capped_by"] == "practitioner"
    assert changed["cap_reason"] == "capped at 120 µA by the practitioner's setting"
    assert "practitioner" in changed["explanation"]
    assert max(c.commanded_ua for _, c in device.commands) <= 120.0 + 1e-9
    assert runner.snapshot().cap_reason == "capped at 120 µA by the practitioner's setting"


def test_each_later_step_puts_the_level_through_its_own_limits(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    runner = runner_for(small_protocol(), open_sim(), events, client_max_ua=100.0)
    runner.set_intensity(0.6)
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED
    started = {e.to_dict()["muscle"]: e.to_dict() for e in events if e.kind == "step_started"}
    assert started["platysma"]["effective_ua"] == pytest.approx(100.0)  # 180 µA asked
    assert started["platysma"]["cap_reason"] == "capped at 100 µA by the client's comfort limit"
    assert started["orbicularis-oculi"]["effective_ua"] == pytest.approx(90.0)  # 0.6 of 150
    assert started["orbicularis-oculi"]["cap_reason"] == ""


def test_a_level_set_while_paused_applies_on_resume(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    runner = runner_for(small_protocol(), device, events)
    assert runner.start()
    tick_until(runner, 2.5)
    runner.pause()
    for _ in range(30):
        runner.tick()
    assert runner.status is SessionStatus.PAUSED and runner.level == 0.0
    runner.set_intensity(0.4)
    runner.tick()
    [changed] = changes(events)
    assert changed["on_resume"] is True
    assert runner.level == 0.0 and device.command is None  # still paused: still no current
    runner.resume()
    levels = []
    for _ in range(40):
        runner.tick()
        levels.append(runner.level)
    assert 0.0 < levels[0] < 0.4  # ramps back up from zero
    assert max(levels) == pytest.approx(0.4)


def test_the_live_readout_is_safe_to_read_from_another_thread(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)
    errors: list[BaseException] = []
    reads = [0]
    done = threading.Event()

    def read() -> None:
        while not done.wait(0.0002):  # read as often as a busy live view would, and then some
            try:
                # each read-out is safe on its own; a consistent pair comes from one snapshot
                runner.current, runner.repetition  # noqa: B018  (must not raise)
                readout = runner.snapshot()
                if readout.step is not None and readout.repetition is not None:
                    assert readout.repetition in readout.step.repetitions
                    assert readout.step_remaining_s >= 0.0
                reads[0] += 1
            except BaseException as exc:  # any error in the reader fails the test
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        summary = runner.run()
    finally:
        done.set()
        reader.join(10)
    assert summary.status is SessionStatus.COMPLETED
    assert errors == [] and reads[0] > 0
    assert runner.snapshot().status is SessionStatus.COMPLETED


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    start=st.floats(0.05, 1.0),
    moves=st.lists(st.tuples(st.integers(0, 400), st.floats(0.0, 1.0)), max_size=8),
    practitioner_max_ua=st.none() | st.floats(30.0, 300.0),
)
def test_no_level_change_ever_exceeds_the_step_cap_or_the_level_asked(
    open_sim: Any,
    small_protocol: Callable[..., Protocol],
    start: float,
    moves: list[tuple[int, float]],
    practitioner_max_ua: float | None,
) -> None:
    protocol = small_protocol(
        defaults={"hold_s": 2.0, "glide_s": 2.0, "repetitions": 1, "ramp_s": 0.5,
                  "cue_interval_s": 5.0,
                  "waveform": {"shape": "square", "amplitude_ua": 300.0, "frequency_hz": 10.0}},
    )  # fmt: skip
    device = open_sim("sim://?load=gel&rate_hz=5000")
    cap_ua = [0.0]
    breaches: list[str] = []

    def on_event(event: Event) -> None:
        if event.kind == "step_started":
            cap_ua[0] = event.to_dict()["amplitude_ua"]

    def on_frame(frame: Any) -> None:
        if frame.peak_ua > cap_ua[0] + NOISE_UA:
            breaches.append(f"peak {frame.peak_ua} > cap {cap_ua[0]} at {frame.t_s}")

    runner = SessionRunner(
        protocol, device, profile=HOME, prechecks=Prechecks(contact=None),
        options=SessionOptions(intensity=start, practitioner_max_ua=practitioner_max_ua),
        subscribers=[on_event], telemetry_subscribers=[on_frame],
    )  # fmt: skip
    by_tick = dict(moves)
    assert runner.start()
    tick = 0
    while not runner.status.final:
        if tick in by_tick:
            runner.set_intensity(by_tick[tick])
        sent, run = len(device.commands), runner.current
        runner.tick()
        for _, command in device.commands[sent:]:
            assert run is not None and command.waveform is run.waveform
            # the step's cap: its constraint's value, which no level can pass
            assert command.commanded_ua <= run.constraint.value * (1 + 1e-9) + 1e-9
            # and never more than the level in force asked for
            asked_ua = runner.intensity * run.step.requested_ua
            assert command.commanded_ua <= asked_ua * (1 + 1e-9) + 1e-9
        tick += 1
    assert runner.status is SessionStatus.COMPLETED, runner.summary().reason
    assert breaches == []


def test_the_commands_a_session_sends_carry_the_client_and_practitioner_ceilings(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    runner = runner_for(
        small_protocol(), device, [], client_max_ua=100.0, practitioner_max_ua=120.0
    )
    runner.start()
    tick_until(runner, 3.0)
    assert device.command is not None
    assert (device.command.client_max_ua, device.command.practitioner_max_ua) == (100.0, 120.0)
    runner.stop()
    tick_until(runner, 1e9)
