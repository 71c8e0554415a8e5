"""The constant-phase load: its fit against the closed form, exact stepping, and conservation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.devices.cpe import BAND_HZ, FIT_BOUND, TAU_GRID_S, fit_cells, nnls
from microamp.devices.load import LOAD_PRESETS, Electrode, LoadModel, LoadParams
from microamp.errors import InvalidValue

BAND = np.logspace(math.log10(BAND_HZ[0]), math.log10(BAND_HZ[1]), 301)


def electrodes() -> st.SearchStrategy[Electrode]:
    """Interfaces over the range skin shows: R 1-300 kohm, corners from 10 µs to 0.5 s."""

    def build(r_ohm: float, tau_s: float, alpha: float) -> Electrode:
        return Electrode(r_ohm, tau_s**alpha / r_ohm * 1e6, alpha)

    return st.builds(
        build,
        st.floats(1e3, 3e5),
        st.floats(1e-5, 0.5),
        st.floats(0.5, 0.9),
    )


@settings(max_examples=40, deadline=None)
@given(first=electrodes(), second=electrodes(), rs_ohm=st.floats(50.0, 3000.0))
def test_the_model_spectrum_matches_the_closed_form_within_its_bound_over_the_band(
    first: Electrode, second: Electrode, rs_ohm: float
) -> None:
    load = LoadParams(rs_ohm, (first, second))
    jw = 1j * 2 * math.pi * BAND[:, None]
    model = rs_ohm + (load.cells_ohm / (1 + jw * TAU_GRID_S)).sum(axis=1)
    closed = rs_ohm + first.r_ohm / (
        1 + first.r_ohm * first.q_us * 1e-6 * (jw[:, 0]) ** first.alpha
    )
    closed += second.r_ohm / (1 + second.r_ohm * second.q_us * 1e-6 * (jw[:, 0]) ** second.alpha)
    error = np.abs(model - closed) / np.abs(closed)
    assert float(error.max()) <= FIT_BOUND
    np.testing.assert_allclose(load.impedance_ohm(BAND), closed, rtol=1e-12)
    # every cell is a real resistor and capacitor, and DC meets exactly R1 + R2
    assert np.all(load.cells_ohm >= 0)
    assert math.isclose(load.cells_ohm.sum(), first.r_ohm + second.r_ohm, rel_tol=1e-12)


def test_a_fit_that_would_miss_its_bound_is_refused_naming_q() -> None:
    with pytest.raises(InvalidValue) as refused:
        Electrode(1e4, 1e4, 0.9)  # a corner of minutes: far below the grid
    assert refused.value.field == "q_us"


def test_nnls_keeps_every_coefficient_non_negative_and_solves_a_feasible_system() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(40, 6))
    x_true = np.array([0.0, 1.5, 0.0, 2.0, 0.3, 0.0])
    x = nnls(a, a @ x_true)
    np.testing.assert_allclose(x, x_true, atol=1e-9)
    assert np.all(nnls(a, -a @ x_true) >= 0)


def _reference(model: LoadModel, current_ua: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample voltages and the end state, one cell and one sample at a time."""
    cells = model.params.cells_ohm
    a = np.exp(-1.0 / (model.sample_rate_hz * TAU_GRID_S))
    v = model.cell_v.copy()
    out = []
    for i_ua in current_ua:
        i_a = i_ua * 1e-6
        out.append(i_a * model.params.rs_ohm + v.sum())
        v = a * v + (1 - a) * cells * i_a
    return np.array(out), v


@settings(max_examples=30, deadline=None)
@given(
    load=st.sampled_from(["gel", "wet", "dry", "r2k"]),
    current=st.lists(st.floats(-60.0, 60.0), min_size=1, max_size=900),
    cuts=st.lists(st.integers(1, 600), max_size=4),
    rate_hz=st.sampled_from([5_000.0, 20_000.0, 200_000.0]),
)
def test_block_stepping_equals_the_cell_recurrence_for_any_partition(
    load: str, current: list[float], cuts: list[int], rate_hz: float
) -> None:
    model = LoadModel(LOAD_PRESETS[load], rate_hz, 40.0)
    model.step(np.full(37, 25.0))  # some charge to start from
    cmd = np.array(current)
    expected, end = _reference(model, cmd)
    got = []
    for part in np.split(cmd, sorted(c for c in cuts if c < cmd.size)):
        got.append(model.step(part).voltage_v)
    scale = 1e-9 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(np.concatenate(got), expected, rtol=1e-9, atol=scale)
    np.testing.assert_allclose(model.cell_v, end, rtol=1e-9, atol=1e-12)


def _sample_integrals(v0: np.ndarray, v_inf: np.ndarray, tau: np.ndarray, dt: float):
    """Over one sample of held current: the integral of each cell's v and of v squared."""
    a = np.exp(-dt / tau)
    d = v0 - v_inf
    int_v = v_inf * dt + d * tau * (1 - a)
    int_v2 = v_inf**2 * dt + 2 * v_inf * d * tau * (1 - a) + d**2 * tau / 2 * (1 - a**2)
    return int_v, int_v2


@settings(max_examples=25, deadline=None)
@given(
    load=st.sampled_from(["gel", "wet", "dry"]),
    current=st.lists(st.floats(-100.0, 100.0), min_size=1, max_size=300),
)
def test_charge_and_energy_are_conserved_delivered_equals_dissipated_plus_stored(
    load: str, current: list[float]
) -> None:
    rate_hz = 20_000.0
    dt = 1.0 / rate_hz
    model = LoadModel(LOAD_PRESETS[load], rate_hz, 40.0)
    cells = model.params.cells_ohm
    on = cells > 0
    r, tau = cells[on], TAU_GRID_S[on]
    c = tau / r
    rs = model.params.rs_ohm
    delivered_j = dissipated_j = leaked_c = 0.0
    start = model.cell_v[on].copy()
    for i_ua in current:
        v0 = model.cell_v[on].copy()
        result = model.step(np.array([i_ua]))
        assert not result.saturated.any()
        i_a = result.delivered_ua[0] * 1e-6
        int_v, int_v2 = _sample_integrals(v0, r * i_a, tau, dt)
        delivered_j += i_a * (i_a * rs * dt + float(int_v.sum()))
        dissipated_j += i_a**2 * rs * dt + float((int_v2 / r).sum())
        leaked_c += int_v / r
    end = model.cell_v[on]
    stored_j = float((0.5 * c * (end**2 - start**2)).sum())
    scale = max(1e-18, abs(delivered_j), abs(dissipated_j))
    assert abs(delivered_j - (dissipated_j + stored_j)) <= 1e-9 * scale
    # each cell: the charge that came in sits on its capacitor or leaked through its resistor
    charge_c = sum(current) * 1e-6 * dt
    np.testing.assert_allclose(c * (end - start) + leaked_c, charge_c, rtol=1e-9, atol=1e-18)


@pytest.mark.parametrize("freq_hz", [20.0, 200.0, 2000.0])
def test_a_sine_through_the_simulated_gel_shows_the_closed_form_impedance(freq_hz: float) -> None:
    rate_hz = 400_000.0
    load = LOAD_PRESETS["gel"]
    model = LoadModel(load, rate_hz, 40.0)
    periods = 8
    n = round(periods * rate_hz / freq_hz)
    t = np.arange(2 * n) / rate_hz
    current_ua = 100.0 * np.sin(2 * np.pi * freq_hz * t)
    voltage = model.step(current_ua).voltage_v[n:]  # the second half, settled
    voltage = voltage - np.polyval(np.polyfit(t[n:], voltage, 1), t[n:])  # the slow cells' drift
    basis = np.exp(-2j * np.pi * freq_hz * t[n:])
    z_measured = (voltage @ basis) / ((current_ua[n:] * 1e-6) @ basis)
    z_closed = complex(load.impedance_ohm(np.array([freq_hz]))[0])
    # the fit's bound, plus the half-sample delay of the held current (w dt / 2)
    bound = FIT_BOUND + math.pi * freq_hz / rate_hz
    assert abs(z_measured - z_closed) / abs(z_closed) <= bound


def test_one_lifted_electrode_opens_the_load_and_the_other_keeps_its_charge() -> None:
    model = LoadModel(LOAD_PRESETS["gel"], 20_000.0, 40.0)
    model.step(np.full(2000, 300.0))
    charged_v = model.v_v
    model.set_params(LOAD_PRESETS["gel"].with_contact(1, "lifted"))
    result = model.step(np.full(20, 300.0))
    assert np.all(result.delivered_ua == 0.0) and np.all(result.voltage_v == 40.0)
    # the skin discharges through its own resistance, it does not vanish
    assert 0.5 * charged_v < model.v_v < charged_v


def test_fit_cells_is_exact_at_dc_for_the_presets() -> None:
    for name in ("gel", "wet", "dry"):
        electrode = LOAD_PRESETS[name].electrodes[0]
        fit = fit_cells(electrode.r_ohm, electrode.q_us * 1e-6, electrode.alpha)
        assert math.isclose(fit.r_ohm.sum(), electrode.r_ohm, rel_tol=1e-12)
        assert fit.fit_error < 1e-3
