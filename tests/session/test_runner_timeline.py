"""The timeline is exact whatever the tick: a tick that does not divide a repetition or a cue
interval is shortened to end on it, so cues sound on the interval and repetitions last what the
protocol says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import Event, SessionOptions, SessionRunner, SessionStatus

HOME = get_profile("home")
# 0.03 s divides neither the 5 s cue interval nor the 9 s hold of a repetition (whose end is no cue time)
ODD_TICK = SessionOptions(tick_s=0.03, expires_after_s=0.5)


def cues_of_one_step(open_sim: Any, small_protocol: Callable[..., Protocol]) -> list[dict]:
    protocol = small_protocol(
        steps=[{"muscle": "masseter", "side": "left", "hold_s": 9.0, "repetitions": 2}]
    )
    events: list[Event] = []
    runner = SessionRunner(
        protocol, open_sim(), profile=HOME, options=ODD_TICK, subscribers=[events.append]
    )
    assert runner.run().status is SessionStatus.COMPLETED
    return [e.to_dict() for e in events if e.kind == "cue"]


def test_a_move_cue_sounds_on_its_interval_when_the_tick_does_not_divide_it(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    cues = cues_of_one_step(open_sim, small_protocol)
    assert [c["reason"] for c in cues] == ["side", "move", "repetition", "move"]
    assert abs(cues[1]["t_s"] - cues[0]["t_s"] - 5.0) < 1e-9
    assert abs(cues[3]["t_s"] - cues[2]["t_s"] - 5.0) < 1e-9


def test_a_repetition_lasts_what_the_protocol_says_when_the_tick_does_not_divide_it(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    cues = cues_of_one_step(open_sim, small_protocol)
    # a hold of 9 s (its ramps inside it): the next repetition opens 9 s after the first
    assert abs(cues[2]["t_s"] - cues[0]["t_s"] - 9.0) < 1e-9
