"""The electrode-skin load held exactly: every refusal by its field, value and rule; the closed
forms of a resistor and of a pair of interfaces; `hold_response` against its recurrence; and
`LoadModel.step` against a reference that walks sample by sample, integrating each sample at
the rail with a matrix exponential (scipy), so the block solver's convolutions, windows, rail
segments and eigen-solution all answer to an independent computation."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from microamp.devices.cpe import TAU_GRID_S
from microamp.devices.load import (
    LOAD_PRESETS,
    Electrode,
    LoadModel,
    LoadParams,
    _q_us,
    _tau_s,
    hold_response,
)
from microamp.errors import InvalidValue

RATE_HZ = 100_000.0


@pytest.mark.parametrize(
    ("make", "field", "value", "rule"),
    [
        (lambda: Electrode(-1.0), "r_ohm", -1.0, "must be at least 0"),
        (lambda: Electrode(math.nan), "r_ohm", math.nan, "must be a finite number"),
        (lambda: Electrode(math.inf), "r_ohm", math.inf, "must be a finite number"),
        (lambda: Electrode("1"), "r_ohm", "1", "must be a finite number"),  # type: ignore[arg-type]
        (lambda: Electrode(1e4, 0.0), "q_us", 0.0, "must be a finite number above 0"),
        (lambda: Electrode(1e4, -2.0), "q_us", -2.0, "must be a finite number above 0"),
        (lambda: Electrode(1e4, 1.0, 0.399), "alpha", 0.399, "must be a number from 0.4 to 0.95"),
        (lambda: Electrode(1e4, 1.0, 0.951), "alpha", 0.951, "must be a number from 0.4 to 0.95"),
        (lambda: Electrode(1e4, 1.0, "0.8"), "alpha", "0.8",  # type: ignore[arg-type]
         "must be a number from 0.4 to 0.95"),
        (lambda: Electrode(1e4, contact="damp"), "contact", "damp",  # type: ignore[arg-type]
         "must be one of wet, drying, dry, lifted"),
        (lambda: LoadParams(0.0, (Electrode(0.0), Electrode(0.0))), "rs_ohm", 0.0,
         "must be a finite number above 0"),
        (lambda: LoadParams(300.0, (Electrode(0.0),)), "electrodes", 1,  # type: ignore[arg-type]
         "a load has two electrodes"),
        (lambda: LoadModel(LOAD_PRESETS["gel"], 0.0, 10.0), "sample_rate_hz", 0.0,
         "must be greater than 0 Hz"),
        (lambda: LoadModel(LOAD_PRESETS["gel"], math.inf, 10.0), "sample_rate_hz", math.inf,
         "must be greater than 0 Hz"),
        (lambda: LoadModel(LOAD_PRESETS["gel"], RATE_HZ, -1.0), "compliance_v", -1.0,
         "must be greater than 0 V"),
        (lambda: LoadModel(LOAD_PRESETS["gel"], RATE_HZ, math.nan), "compliance_v", math.nan,
         "must be greater than 0 V"),
    ],
)  # fmt: skip
def test_a_bad_load_is_refused_naming_its_field_value_and_rule(
    make: object, field: str, value: object, rule: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        make()  # type: ignore[operator]
    assert refused.value.field == field and refused.value.rule == rule
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(refused.value.value)  # type: ignore[arg-type]
    else:
        assert refused.value.value == value


def test_the_edges_of_each_range_are_allowed() -> None:
    assert Electrode(0.0).cells_ohm.sum() == 0.0  # no interface: a lead clipped to a resistor
    for alpha in (0.4, 0.95):  # each with a Q the fit holds within its bound
        assert Electrode(1e4, _q_us(1e4, 4.7e-3, alpha), alpha).alpha == alpha
    with pytest.raises(InvalidValue) as unfitted:  # one ohm is an interface, and must fit
        Electrode(1.0, 1.0)
    assert unfitted.value.field == "q_us" and "within 1 %" in unfitted.value.rule
    for contact in ("wet", "drying", "dry", "lifted"):
        assert Electrode(1e4, contact=contact).contact == contact  # type: ignore[arg-type]
    assert Electrode(1e4, contact="lifted").lifted and not Electrode(1e4).lifted


def test_a_resistor_is_its_resistance_at_every_frequency_and_at_dc() -> None:
    load = LoadParams.resistor(2_000.0)
    freq = np.array([1.0, 100.0, 10_000.0])
    assert load.rs_ohm == 2_000.0 and load.dc_ohm == 2_000.0
    assert np.array_equal(load.impedance_ohm(freq), np.full(3, 2_000.0 + 0j))
    assert load.electrodes[0].impedance_ohm(freq).dtype == np.complex128
    assert np.array_equal(load.electrodes[0].impedance_ohm(freq), np.zeros(3, complex))
    assert load.electrodes[0].impedance_ohm(np.zeros((2, 2))).shape == (2, 2)
    assert not load.cells_ohm.any()


def test_a_pair_of_interfaces_adds_up_and_a_lifted_one_opens_the_circuit() -> None:
    one, two = Electrode(10_000.0, 2.0, 0.8), Electrode(30_000.0, 1.0, 0.75, "dry")
    load = LoadParams(300.0, (one, two))
    assert load.dc_ohm == 40_300.0 and not load.open_circuit
    freq = np.array([10.0, 1_000.0])
    want = 300.0 + one.impedance_ohm(freq) + two.impedance_ohm(freq)
    assert np.allclose(load.impedance_ohm(freq), want, rtol=1e-12)
    # the closed form of one interface: R / (1 + R Q (j w)**alpha)
    w = 2 * math.pi * 1_000.0
    closed = 10_000.0 / (1 + 10_000.0 * 2e-6 * (1j * w) ** 0.8)
    assert one.impedance_ohm(np.array([1_000.0]))[0] == pytest.approx(closed, rel=1e-12)
    assert np.array_equal(load.cells_ohm, one.cells_ohm + two.cells_ohm)
    assert abs(one.cells_ohm.sum() - 10_000.0) < 100.0  # the cells hold the interface's R
    lifted = load.with_contact(1, "lifted")
    assert lifted.open_circuit and lifted.dc_ohm == math.inf
    assert lifted.electrodes == (one, replace(two, contact="lifted"))
    assert np.all(np.isinf(lifted.impedance_ohm(freq).real))
    assert LoadParams(300.0, (one, two)).with_electrode(0, two).electrodes == (two, two)
    same = LoadParams.symmetric(300.0, 10_000.0, 2.0, 0.8, "drying")
    assert same.electrodes == (replace(one, contact="drying"),) * 2 and same.rs_ohm == 300.0


def test_an_interfaces_time_constant_and_its_q_are_inverse() -> None:
    assert _tau_s(10_000.0, 1.0, 1.0) == pytest.approx(0.01)  # R C with alpha 1
    assert _tau_s(10_000.0, 4.0, 0.5) == pytest.approx((10_000.0 * 4e-6) ** 2)
    for r, tau, alpha in ((10_000.0, 4.7e-3, 0.8), (300_000.0, 15e-3, 0.7)):
        assert _tau_s(r, _q_us(r, tau, alpha), alpha) == pytest.approx(tau, rel=1e-12)
    assert _q_us(10_000.0, 0.01, 1.0) == pytest.approx(1.0)


def _recurrence(v0: float, a: float, drive: np.ndarray) -> tuple[np.ndarray, float]:
    out, v = np.empty(drive.size), v0
    for n, d in enumerate(drive):
        out[n] = v
        v = a * v + d
    return out, v


@pytest.mark.parametrize("a", [0.0, 1e-16, 0.2, 0.9, 0.999_999, 1.0])
@pytest.mark.parametrize("n", [0, 1, 2, 700])
def test_hold_response_is_its_recurrence(a: float, n: int) -> None:
    drive = np.random.default_rng(n).normal(0.0, 1.0, n)
    out = np.full(n, np.nan)
    end = hold_response(0.75, a, drive, out)
    want, want_end = _recurrence(0.75, a, drive)
    assert np.allclose(out, want, rtol=1e-9, atol=1e-12)
    assert end == pytest.approx(want_end, rel=1e-9, abs=1e-12)


class _Reference:
    """`LoadModel` sample by sample, from the module docstring's equations alone: held current
    within compliance, constant voltage at the rail integrated with `expm`."""

    def __init__(self, params: LoadParams, rate_hz: float, compliance_v: float) -> None:
        self.params, self.vc, self.dt = params, compliance_v, 1.0 / rate_hz
        self.v = np.zeros(TAU_GRID_S.size)
        r, tau = params.cells_ohm, TAU_GRID_S
        self.a = np.exp(-self.dt / tau)
        self.gain = (1.0 - self.a) * r
        b = r / (tau * params.rs_ohm)
        m = -(np.diag(1.0 / tau) + np.outer(b, np.ones(tau.size)))
        self.rail_step = expm(m * self.dt)
        # the forced part over one sample: A^-1 (e^{A dt} - I) b
        self.rail_input = np.linalg.solve(m, (self.rail_step - np.eye(tau.size)) @ b)

    def step(self, current_ua: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        delivered, voltage, rail = (np.empty(current_ua.size), np.empty(current_ua.size),
                                    np.zeros(current_ua.size, bool))  # fmt: skip
        rs = self.params.rs_ohm
        for n, i_ua in enumerate(current_ua):
            i = i_ua * 1e-6
            if self.params.open_circuit:
                delivered[n], rail[n] = 0.0, i != 0.0
                voltage[n] = math.copysign(self.vc, i) if i != 0.0 else self.v.sum()
                self.v = self.a * self.v
                continue
            need = i * rs + self.v.sum()
            if abs(need) <= self.vc:
                delivered[n], voltage[n] = i_ua, need
                self.v = self.a * self.v + self.gain * i
            else:
                u = math.copysign(self.vc, need)
                delivered[n], voltage[n], rail[n] = (u - self.v.sum()) / rs * 1e6, u, True
                self.v = self.rail_step @ self.v + self.rail_input * u
        return delivered, voltage, rail


def _pulses(n: int, amplitude_ua: float, width: int, period: int, biphasic: bool) -> np.ndarray:
    k = np.arange(n) % period
    wave = np.where(k < width, amplitude_ua, 0.0)
    if biphasic:
        wave = np.where((k >= width) & (k < 2 * width), -amplitude_ua, wave)
    return wave


CASES = {
    # a dry probe at 300 µA needs some 180 V: at the 10 V rail on every pulse
    "dry pulses at the rail": ("dry", 10.0, _pulses(5_000, 300.0, 30, 1_000, True)),
    # direct current into wet skin: within compliance until the interfaces charge, then the rail
    "wet DC into the rail": ("wet", 15.0, np.full(5_000, 400.0)),
    "gel biphasic within compliance": ("gel", 20.0, _pulses(6_000, 500.0, 30, 1_000, True)),
    "a resistor over its compliance": ("r10k", 10.0, np.full(300, 2_000.0)),
    "a square wave from rail to rail": ("wet", 12.0, _pulses(4_500, 600.0, 700, 1_400, True)),
    "one probe lifted": ("lifted", 20.0, _pulses(600, 300.0, 30, 100, False)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_block_gives_what_the_sample_by_sample_reference_gives(case: str) -> None:
    preset, compliance_v, current_ua = CASES[case]
    params = LOAD_PRESETS[preset]
    model, reference = (
        LoadModel(params, RATE_HZ, compliance_v),
        _Reference(params, RATE_HZ, compliance_v),
    )
    got = model.step(current_ua)
    delivered, voltage, rail = reference.step(current_ua)
    assert np.array_equal(got.saturated, rail)
    assert np.allclose(got.delivered_ua, delivered, rtol=1e-7, atol=1e-6)
    assert np.allclose(got.voltage_v, voltage, rtol=1e-7, atol=1e-9)
    # each cell's charge to 10 ppm or 1 nV (its fastest cells are the least exact, at the rail)
    assert np.allclose(model.state, reference.v, rtol=1e-5, atol=1e-9)
    assert model.v_v == pytest.approx(float(reference.v.sum()), rel=1e-6, abs=1e-9)
    if preset == "r10k":  # at the rail a resistor passes what the rail can push: Vc / R
        assert np.allclose(got.delivered_ua, 1_000.0) and got.saturated.all()


def test_the_cases_reach_the_rail_and_leave_it() -> None:
    for case in (
        "dry pulses at the rail",
        "wet DC into the rail",
        "a square wave from rail to rail",
    ):
        preset, compliance_v, current_ua = CASES[case]
        rail = LoadModel(LOAD_PRESETS[preset], RATE_HZ, compliance_v).step(current_ua).saturated
        assert rail.any() and not rail.all(), case
    gel = LoadModel(LOAD_PRESETS["gel"], RATE_HZ, 20.0)
    assert not gel.step(CASES["gel biphasic within compliance"][2]).saturated.any()


@settings(max_examples=30, deadline=None)
@given(preset=st.sampled_from(["dry", "wet", "gel"]), amplitude_ua=st.floats(50.0, 900.0),
       cuts=st.lists(st.integers(1, 2_999), max_size=5), compliance_v=st.floats(5.0, 40.0))  # fmt: skip
def test_a_block_cut_anywhere_gives_the_same_delivery_and_keeps_the_charge(
    preset: str, amplitude_ua: float, cuts: list[int], compliance_v: float
) -> None:
    current_ua = _pulses(3_000, amplitude_ua, 40, 500, True) + 0.2 * amplitude_ua
    whole = LoadModel(LOAD_PRESETS[preset], RATE_HZ, compliance_v)
    parts = LoadModel(LOAD_PRESETS[preset], RATE_HZ, compliance_v)
    once = whole.step(current_ua)
    edges = sorted({0, current_ua.size, *cuts})
    pieces = [parts.step(current_ua[a:b]) for a, b in zip(edges, edges[1:], strict=False)]
    assert np.array_equal(np.concatenate([p.saturated for p in pieces]), once.saturated)
    assert np.allclose(np.concatenate([p.delivered_ua for p in pieces]), once.delivered_ua,
                       rtol=1e-7, atol=1e-6)  # fmt: skip
    assert np.allclose(np.concatenate([p.voltage_v for p in pieces]), once.voltage_v,
                       rtol=1e-7, atol=1e-9)  # fmt: skip
    assert np.allclose(parts.state, whole.state, rtol=1e-7, atol=1e-12)


def test_a_lifted_probe_keeps_the_skins_charge_and_it_is_there_when_it_lands() -> None:
    gel = LOAD_PRESETS["gel"]
    model = LoadModel(gel, RATE_HZ, 20.0)
    model.step(np.full(2_000, 300.0))
    charged = model.state
    assert model.v_v > 1.0
    model.set_params(gel.with_contact(0, "lifted"))
    assert np.array_equal(model.state, charged)  # a change of load keeps every cell's charge
    lifted = model.step(np.full(100, 300.0))
    assert np.all(lifted.delivered_ua == 0.0) and lifted.saturated.all()
    assert np.all(lifted.voltage_v == 20.0)
    # open, each interface discharges through its own resistance: less charge, none lost at once
    assert 0.0 < model.v_v < float(charged.sum())
    kept = model.state
    model.restore(charged)
    assert np.array_equal(model.state, charged)
    model.restore(kept)
    model.set_params(gel)
    reference = _Reference(gel, RATE_HZ, 20.0)
    reference.v = kept.copy()
    landed = model.step(np.full(500, 300.0))
    delivered, voltage, _rail = reference.step(np.full(500, 300.0))
    assert np.allclose(landed.delivered_ua, delivered, rtol=1e-7, atol=1e-6)
    assert np.allclose(landed.voltage_v, voltage, rtol=1e-7, atol=1e-9)


def test_an_idle_lifted_probe_reads_the_interfaces_own_voltage() -> None:
    gel = LOAD_PRESETS["gel"]
    model = LoadModel(gel, RATE_HZ, 20.0)
    model.step(np.full(1_000, 300.0))
    model.set_params(LOAD_PRESETS["lifted"])
    idle = model.step(np.zeros(50))
    assert not idle.saturated.any() and np.all(idle.delivered_ua == 0.0)
    assert 0.0 < idle.voltage_v[-1] < idle.voltage_v[0]  # decaying, never at the rail
    negative = model.step(np.full(5, -100.0))
    assert np.all(negative.voltage_v == -20.0) and negative.saturated.all()


def test_the_edges_of_the_models_own_settings() -> None:
    with pytest.raises(InvalidValue) as refused:  # a source with no compliance at all
        LoadModel(LOAD_PRESETS["gel"], RATE_HZ, 0.0)
    assert refused.value.field == "compliance_v" and refused.value.value == 0.0
    assert refused.value.rule == "must be greater than 0 V"
    # any rate and compliance above zero, however low, is a model that steps
    slow = LoadModel(LOAD_PRESETS["r2k"], 0.5, 0.5)
    assert slow.sample_rate_hz == 0.5 and slow.dt_s == 2.0 and slow.compliance_v == 0.5
    stepped = slow.step(np.array([100.0, 400.0]))  # 0.2 V, then 0.8 V past the half-volt rail
    assert stepped.saturated.tolist() == [False, True]
    assert stepped.delivered_ua.tolist() == pytest.approx([100.0, 250.0], rel=1e-12)
    assert stepped.voltage_v.tolist() == pytest.approx([0.2, 0.5], rel=1e-12)


def test_the_constructors_defaults() -> None:
    wet = LoadParams.symmetric(300.0, 10_000.0, 2.0, 0.8)
    assert wet.electrodes == (Electrode(10_000.0, 2.0, 0.8, "wet"),) * 2
    # a resistor's leads are bare, with an electrode's own defaults: the Q and alpha an
    # interface given to a resistor load (`sim://?load=r2k&rp_ohm=...`) starts from
    bare = LoadParams.resistor(2_000.0).electrodes
    assert bare == (Electrode(0.0),) * 2
    assert (bare[0].r_ohm, bare[0].q_us, bare[0].alpha, bare[0].contact) == (0.0, 1.0, 0.8, "wet")


def _one_ohm() -> Electrode:
    """An interface of one ohm (metal on saline) with the gel's characteristic time: every
    cell of it is under an ohm."""
    return Electrode(1.0, _q_us(1.0, 4.7e-3, 0.8), 0.8)


def test_an_interface_of_one_ohm_is_its_closed_form() -> None:
    one = _one_ohm()
    assert 0.0 < one.cells_ohm.max() < 1.0
    w = 2 * math.pi * np.array([10.0, 1_000.0])
    closed = 1.0 / (1 + 1.0 * one.q_us * 1e-6 * (1j * w) ** 0.8)
    assert np.allclose(one.impedance_ohm(w / (2 * math.pi)), closed, rtol=1e-12, atol=0.0)


def test_an_interface_of_one_ohm_is_stepped_within_compliance_and_at_the_rail() -> None:
    # 1 kohm in series: 50 µA within the 0.1 V compliance, 150 µA past it
    params = LoadParams(1_000.0, (_one_ohm(), _one_ohm()))
    current_ua = _pulses(3_000, 150.0, 40, 200, True) + _pulses(3_000, 50.0, 100, 200, False)
    model, reference = LoadModel(params, RATE_HZ, 0.1), _Reference(params, RATE_HZ, 0.1)
    got = model.step(current_ua)
    delivered, voltage, rail = reference.step(current_ua)
    assert rail.any() and not rail.all()
    assert np.array_equal(got.saturated, rail)
    assert np.allclose(got.delivered_ua, delivered, rtol=1e-7, atol=1e-6)
    assert np.allclose(got.voltage_v, voltage, rtol=1e-7, atol=1e-12)
    assert np.abs(reference.v).max() > 1e-6  # the interfaces hold charge...
    assert np.allclose(model.state, reference.v, rtol=1e-5, atol=1e-12)  # ...and so does the model


def _gel_then_dry() -> tuple[LoadModel, _Reference, np.ndarray]:
    """Gelled skin charged, then both probes dry: the gel's cells a dry interface has none of (no
    resistance on their time constant) are still charged. The model and the reference from there,
    and which cells are idle."""
    gel, dry = LOAD_PRESETS["gel"], LOAD_PRESETS["dry"]
    idle = (gel.cells_ohm > 0) & (dry.cells_ohm == 0)
    model = LoadModel(gel, RATE_HZ, 10.0)
    model.step(np.full(2_000, 300.0))
    reference = _Reference(dry, RATE_HZ, 10.0)
    reference.v = model.state
    model.set_params(dry)
    return model, reference, idle


# within compliance for 7 samples, at the 10 V rail from the 8th (a dry probe needs ~180 V)
_DRYING_PULSES = _pulses(3_000, 300.0, 400, 1_000, True)


def test_cells_the_new_skin_lacks_keep_discharging_at_the_rail() -> None:
    model, reference, idle = _gel_then_dry()
    assert idle.any() and np.abs(model.state[idle]).min() > 1e-3
    got = model.step(_DRYING_PULSES)
    delivered, voltage, rail = reference.step(_DRYING_PULSES)
    first = int(np.argmax(rail))
    assert first == 7 and np.array_equal(got.saturated[: first + 1], rail[: first + 1])
    # up to and at the first sample at the rail, the rail's current counts the idle cells too
    assert np.allclose(got.delivered_ua[: first + 1], delivered[: first + 1], rtol=1e-9)
    assert np.allclose(got.voltage_v[: first + 1], voltage[: first + 1], rtol=1e-9)
    # an idle cell only decays, through its own time constant, at the rail as off it
    assert np.allclose(model.state[idle], reference.v[idle], rtol=1e-9, atol=0.0)


def test_charged_idle_cells_at_the_rail_give_the_reference() -> None:
    model, reference, _idle = _gel_then_dry()
    got = model.step(_DRYING_PULSES)
    delivered, voltage, rail = reference.step(_DRYING_PULSES)
    assert np.array_equal(got.saturated, rail)
    assert np.allclose(got.delivered_ua, delivered, rtol=1e-7, atol=1e-6)
    assert np.allclose(got.voltage_v, voltage, rtol=1e-7, atol=1e-9)
    assert np.allclose(model.state, reference.v, rtol=1e-5, atol=1e-9)


def test_blocks_of_many_lengths_in_turn_give_the_reference() -> None:
    # each block longer than a short block, each of its own length, and the first again at the
    # end: every one answers as a single block from the sample-by-sample reference
    params = LOAD_PRESETS["gel"]
    model, reference = LoadModel(params, RATE_HZ, 20.0), _Reference(params, RATE_HZ, 20.0)
    for n in [*range(300, 312), 300]:
        current_ua = _pulses(n, 400.0, 30, 100, True)
        got = model.step(current_ua)
        delivered, voltage, rail = reference.step(current_ua)
        assert not rail.any()
        assert np.allclose(got.voltage_v, voltage, rtol=1e-7, atol=1e-9), n
    assert np.allclose(model.state, reference.v, rtol=1e-7, atol=1e-12)


def test_exactly_the_compliance_is_within_it() -> None:
    # 5 mA through 2 kohm needs exactly the 10 V the source has: it is delivered, not railed
    model = LoadModel(LOAD_PRESETS["r2k"], RATE_HZ, 10.0)
    at = model.step(np.array([5_000.0, 5_000.0]))
    assert not at.saturated.any()
    assert at.delivered_ua.tolist() == [5_000.0, 5_000.0] and at.voltage_v.tolist() == [10.0, 10.0]


def test_the_rail_holds_only_while_the_command_is_more_than_it_can_push() -> None:
    # through 10 kohm at a 10 V rail the source can push 1 mA
    model = LoadModel(LOAD_PRESETS["r10k"], RATE_HZ, 10.0)
    once = model.step(np.array([2_000.0, 500.0, 2_000.0, 2_000.0, -300.0]))
    assert once.saturated.tolist() == [True, False, True, True, False]
    assert once.delivered_ua.tolist() == pytest.approx([1_000.0, 500.0, 1_000.0, 1_000.0, -300.0])
    assert once.voltage_v.tolist() == pytest.approx([10.0, 5.0, 10.0, 10.0, -3.0])
    # a command of exactly what the rail can push after a sample at the rail is delivered in full
    just = model.step(np.array([2_000.0, 1_000.0]))
    assert just.saturated.tolist() == [True, False]
    assert just.delivered_ua.tolist() == [1_000.0, 1_000.0]


def test_a_memory_of_the_smallest_fully_solved_decay_is_kept() -> None:
    # with no drive the recurrence is a pure decay, a**n v0, however small a is kept to
    out = np.full(3, np.nan)
    end = hold_response(0.75, 1e-15, np.zeros(3), out)
    assert out.tolist() == pytest.approx([0.75, 0.75e-15, 0.75e-30], rel=1e-12, abs=0.0)
    assert end == pytest.approx(0.75e-45, rel=1e-12, abs=0.0)


def test_a_long_stay_at_the_rail_ends_where_the_reference_leaves_it() -> None:
    # dry skin at a 20 V rail from sample 284; at 540, 256 samples on, the command reverses and
    # needs only 18.5 V: the model rails it at +20 V and delivers +64 µA for the -677 µA commanded
    current_ua = _pulses(3_000, 846.0, 40, 500, True) + 0.2 * 846.0
    params = LOAD_PRESETS["dry"]
    got = LoadModel(params, RATE_HZ, 20.0).step(current_ua)
    delivered, voltage, rail = _Reference(params, RATE_HZ, 20.0).step(current_ua)
    assert rail[284:540].all() and not rail[540]
    assert np.array_equal(got.saturated, rail)
    assert np.allclose(got.delivered_ua, delivered, rtol=1e-7, atol=1e-6)
    assert np.allclose(got.voltage_v, voltage, rtol=1e-7, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    before=st.sampled_from(["gel", "wet"]),
    after=st.sampled_from(["dry", "wet", "gel"]),
    charge_ua=st.floats(-600.0, 600.0),
    drive_ua=st.floats(50.0, 900.0),
    compliance_v=st.sampled_from([5.0, 10.0, 20.0]),
    width=st.integers(5, 400),
)
def test_skin_that_changes_while_charged_is_stepped_as_the_reference_at_and_off_the_rail(
    before: str, after: str, charge_ua: float, drive_ua: float, compliance_v: float, width: int
) -> None:
    # the cells the new skin lacks keep their charge, decay on their own and are in the
    # source's loop: at the rail their voltage is part of what the source pushes against
    model = LoadModel(LOAD_PRESETS[before], RATE_HZ, compliance_v)
    model.step(np.full(1_500, charge_ua))
    reference = _Reference(LOAD_PRESETS[after], RATE_HZ, compliance_v)
    reference.v = model.state
    model.set_params(LOAD_PRESETS[after])
    current_ua = _pulses(1_200, drive_ua, width, 2 * width + 50, True)
    got = model.step(current_ua)
    delivered, voltage, rail = reference.step(current_ua)
    assert np.allclose(got.delivered_ua, delivered, rtol=1e-6, atol=1e-5)
    assert np.allclose(got.voltage_v, voltage, rtol=1e-6, atol=1e-8)
    assert np.allclose(model.state, reference.v, rtol=1e-5, atol=1e-9)
