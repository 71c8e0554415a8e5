"""The operator's level and controls as they arrive: a level is refused by field, value and rule
unless it is a number from 0 to 1 (both ends allowed), a Stop waiting behind other requests is
found at once, and a control sent without a name is said to be by the operator."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from microamp.errors import InvalidValue
from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import Event, Operator, SessionRunner
from microamp.session.controls import Controls, by
from microamp.session.level import checked_level

HOME = get_profile("home")


@pytest.mark.parametrize("level", ["high", True, None, 1.5, -0.1, math.nan, math.inf])
def test_a_level_that_is_not_a_number_from_0_to_1_is_refused_by_field_value_and_rule(
    level: Any,
) -> None:
    with pytest.raises(InvalidValue) as info:
        checked_level(level)
    assert (info.value.field, info.value.rule) == ("level", "must be a number from 0 to 1")
    assert info.value.value is level


@pytest.mark.parametrize("level", [0, 0.0, 0.01, 1, 1.0])
def test_both_ends_of_the_level_are_allowed(level: float) -> None:
    assert checked_level(level) == float(level)
    assert isinstance(checked_level(level), float)


def test_a_stop_behind_other_requests_is_found_at_once_and_nothing_else_is_a_stop() -> None:
    controls = Controls()
    dana = Operator("Dana Reyes", 7, "web")
    controls.request("pause", dana)
    controls.request("resume", dana)
    assert controls.stop_pending() is None
    controls.request("stop", dana)
    assert controls.stop_pending() == ("stop", dana)
    assert controls.take() == ([("pause", dana), ("resume", dana), ("stop", dana)], None)
    assert controls.stop_pending() is None


def test_a_control_sent_without_a_name_is_said_to_be_by_the_operator(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    assert by(None) == "by the operator"
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    assert runner.start()
    runner.tick()
    runner.pause()
    runner.tick()
    [paused] = [e.to_dict() for e in events if e.kind == "paused"]
    assert paused["reason"] == "paused by the operator"
    assert paused["operator"] is None
