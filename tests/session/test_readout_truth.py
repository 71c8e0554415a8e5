"""The readout a live view shows: never a negative current, and plain words when the skin holds
the current below the step's peak at the chosen level."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import SessionRunner

HOME = get_profile("home")


def test_high_impedance_skin_is_said_as_holding_the_current(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim("sim://?load=gel&rp_ohm=80000"),
                           profile=HOME)  # fmt: skip
    runner.start()
    notes = []
    while not runner.status.final and runner.t_s < 12.0:
        runner.tick()
        if runner.snapshot().holding:
            notes.append(runner.snapshot())
    assert notes, "the readout never said the current was held"
    found = re.fullmatch(r"dry skin: holding (\d+) µA of 300 µA \(.+ at \d+ kΩ\)", notes[0].holding)
    assert found, notes[0].holding
    assert int(found.group(1)) == round(notes[0].delivered_peak_ua or 0)


def test_gelled_skin_holds_nothing_and_no_reading_is_negative(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)
    runner.start()
    readings = []
    while not runner.status.final:
        runner.tick()
        if len(readings) == 40:
            runner.pause()  # paused: the device reads noise around zero
        readings.append(runner.snapshot())
        if len(readings) == 120:
            runner.stop()
    assert any(r.status == "paused" for r in readings)
    assert all(r.holding == "" for r in readings)
    assert all((r.delivered_ua or 0) >= 0 and (r.delivered_peak_ua or 0) >= 0 for r in readings)
