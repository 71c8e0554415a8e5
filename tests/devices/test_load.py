"""The load physics: the exact recurrence, compliance, and an open circuit."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from microamp.devices.load import LOAD_PRESETS, LoadModel, hold_response


@given(
    a=st.one_of(st.floats(0.0, 1.0), st.just(1e-20), st.just(0.999999)),
    v0=st.floats(-50.0, 50.0),
    drive=st.lists(st.floats(-5.0, 5.0), min_size=1, max_size=3000),
)
def test_hold_response_solves_the_recurrence_exactly(
    a: float, v0: float, drive: list[float]
) -> None:
    d = np.array(drive)
    out = np.empty(d.size)
    end = hold_response(v0, a, d, out)
    v, expected = v0, []
    for x in drive:
        expected.append(v)
        v = a * v + x
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
    assert math.isclose(end, v, rel_tol=1e-9, abs_tol=1e-9)


@given(
    load=st.sampled_from(["gel", "wet", "dry"]),
    current=st.lists(st.floats(-1000.0, 1000.0), min_size=1, max_size=2000),
)
def test_source_never_exceeds_its_command_or_its_compliance(
    load: str, current: list[float]
) -> None:
    model = LoadModel(LOAD_PRESETS[load], 20_000.0, 40.0)
    cmd = np.array(current)
    result = model.step(cmd)
    assert np.all(np.abs(result.voltage_v) <= 40.0 + 1e-9)
    assert np.all(np.abs(result.delivered_ua) <= np.abs(cmd) + 1e-9)
    inside = ~result.saturated
    np.testing.assert_allclose(result.delivered_ua[inside], cmd[inside], atol=1e-9)


def test_open_circuit_passes_no_current_and_sits_at_the_rail() -> None:
    model = LoadModel(LOAD_PRESETS["lifted"], 20_000.0, 40.0)
    result = model.step(np.full(100, 300.0))
    assert np.all(result.delivered_ua == 0.0)
    assert np.all(result.voltage_v == 40.0)


def test_gel_needs_ohms_law_voltage_once_the_skin_has_charged() -> None:
    model = LoadModel(LOAD_PRESETS["gel"], 20_000.0, 40.0)
    # a constant-phase interface settles slowly (its slowest cells have corners below 1 Hz):
    # within 0.1 % after 1 s, far past the 4.7 ms characteristic time, and closer after 20 s
    result = model.step(np.full(20_000, 400.0))
    expected_v = 400e-6 * LOAD_PRESETS["gel"].dc_ohm
    assert math.isclose(float(result.voltage_v[-1]), expected_v, rel_tol=1e-3)
    later = model.step(np.full(400_000, 400.0))
    assert abs(later.voltage_v[-1] - expected_v) < abs(result.voltage_v[-1] - expected_v)
    assert math.isclose(float(later.voltage_v[-1]), expected_v, rel_tol=2e-4)
