"""The output characterised from what the sim delivered, against figures worked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.session.characterize import (
    CHARACTERIZE_LOADS,
    LOWEST_SETTING_LIMIT_PCT,
    characterize,
    lowest_setting_pct,
    sim_url_for,
)

HOME = get_profile("home")


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return characterize("sim://", HOME, electrode_area_cm2=2.0)


def _row(report, waveform: str, load: str):  # type: ignore[no-untyped-def]
    return next(r for r in report.rows if r.waveform == waveform and r.load == load)


def test_square_into_r500_matches_the_hand_figures(report) -> None:  # type: ignore[no-untyped-def]
    # 100 µA monophasic for half of a 100 ms period: 100 µA x 50 ms = 5 µC per pulse, all of
    # it one phase; rms 100 / sqrt(2) µA over 2 cm²; 500 ohm x 100 µA = 0.05 V of 40 V
    row = _row(report, "square", "r500")
    assert row.net_charge_per_pulse_uc == pytest.approx(5.0, rel=0.01)
    assert row.max_phase_charge_uc == pytest.approx(5.0, rel=0.01)
    assert row.rms_ua == pytest.approx(100.0 / math.sqrt(2), rel=0.01)
    assert row.density_ua_cm2 == pytest.approx(100.0 / math.sqrt(2) / 2.0, rel=0.01)
    assert row.dc_ua == pytest.approx(50.0, rel=0.01)
    assert row.peak_ua == pytest.approx(100.0, rel=0.01)
    assert row.headroom_v == pytest.approx(40.0 - 0.05, rel=0.01)
    assert row.passed


def test_biphasic_pulse_is_balanced_with_hand_phase_charge(report) -> None:  # type: ignore[no-untyped-def]
    # 1000 µs of pulse split into two 500 µs phases of 100 µA: 0.05 µC each, net 0
    row = _row(report, "biphasic", "r500")
    assert row.max_phase_charge_uc == pytest.approx(0.05, rel=0.01)
    assert abs(row.net_charge_per_pulse_uc) < 1e-6
    assert abs(row.dc_ua) < 1e-6


def test_every_family_into_every_load_is_measured(report) -> None:  # type: ignore[no-untyped-def]
    pairs = {(r.waveform, r.load) for r in report.rows}
    families = ("square", "biphasic", "sine", "alternating")
    assert pairs == {(w, load) for w in families for load in CHARACTERIZE_LOADS}


def test_a_monophasic_square_into_dry_skin_runs_out_of_compliance(report) -> None:  # type: ignore[no-untyped-def]
    # 602 kohm at DC: 100 µA would need 60 V of a 40 V source, so the device trips
    row = _row(report, "square", "dry")
    assert not row.passed
    assert "compliance" in row.faults
    assert row.headroom_v == pytest.approx(0.0, abs=0.01)


@pytest.mark.requirement("SAF-CHAR-02")
def test_every_fault_kind_has_a_measured_reaction(report) -> None:  # type: ignore[no-untyped-def]
    reactions = {r.kind: r for r in report.reactions}
    assert set(reactions) == {"contact-loss", "dry", "drying", "disconnect", "stall"}
    # a lifted probe stops the current at once: the device trips within its 0.5 ms
    assert reactions["contact-loss"].reaction_s is not None
    assert reactions["contact-loss"].reaction_s <= 0.001
    assert reactions["disconnect"].reaction_s == 0.0
    # a stalled telemetry path is noticed only by the host's monitor, a tick or more later
    stall = reactions["stall"].reaction_s
    assert stall is not None and 0.0 < stall <= 1.0
    assert all(r.passed for r in reactions.values())


def test_the_lowest_setting_is_measured_against_the_profile_ceiling(report) -> None:  # type: ignore[no-untyped-def]
    low = report.lowest
    assert low.lowest_ua == pytest.approx(1.0, rel=0.01)
    assert low.highest_ua == pytest.approx(HOME.max_amplitude_ua.value, rel=0.01)
    assert low.share_pct == pytest.approx(0.25, rel=0.01)
    assert low.passed


def test_a_coarse_lowest_setting_fails_the_rule() -> None:
    report = characterize("sim://", HOME, electrode_area_cm2=1.0, step_ua=10.0, loads=("r500",))
    assert report.lowest.share_pct == pytest.approx(2.5, rel=0.01)
    assert not report.lowest.passed
    assert not report.passed


@pytest.mark.requirement("SAF-CHAR-01")
@given(
    lowest_ua=st.floats(min_value=0.001, max_value=1000.0),
    highest_ua=st.floats(min_value=0.001, max_value=1000.0),
)
def test_lowest_setting_rule_is_the_two_percent_share(lowest_ua: float, highest_ua: float) -> None:
    share = lowest_setting_pct(lowest_ua, highest_ua)
    assert share == pytest.approx(100.0 * lowest_ua / highest_ua)
    if lowest_ua * 50.0 < highest_ua * (1 - 1e-9):
        assert share <= LOWEST_SETTING_LIMIT_PCT
    if lowest_ua * 50.0 > highest_ua * (1 + 1e-9):
        assert share > LOWEST_SETTING_LIMIT_PCT


def test_lowest_setting_needs_a_positive_highest() -> None:
    with pytest.raises(InvalidValue) as caught:
        lowest_setting_pct(1.0, 0.0)
    assert caught.value.field == "highest_ua"


def test_sim_url_keeps_the_users_settings_and_swaps_the_load() -> None:
    url = sim_url_for("sim://?load=gel&compliance_v=20&noise_ua=1", "r2k")
    assert "load=r2k" in url and "load=gel" not in url
    assert "compliance_v=20" in url and "noise_ua=1" in url and "noise_v=0" in url


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"electrode_area_cm2": 0.0}, "electrode_area_cm2"),
        ({"electrode_area_cm2": 1.0, "step_ua": -1.0}, "step_ua"),
        ({"electrode_area_cm2": 1.0, "step_ua": 500.0}, "step_ua"),
    ],
)
def test_bad_values_are_named(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        characterize("sim://", HOME, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_an_unknown_load_is_named() -> None:
    with pytest.raises(InvalidValue) as caught:
        sim_url_for("sim://", "wood")
    assert caught.value.field == "load"


def test_a_url_with_its_own_faults_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        characterize("sim://?fault=stall@1", HOME, electrode_area_cm2=1.0)
    assert caught.value.field == "device_url"


def test_a_device_start_ramp_is_waited_out_before_measuring() -> None:
    # a 1 s full-scale start ramp on top of the slew limit: the last cycle is still at full level
    report = characterize("sim://?ramp_s=1", HOME, electrode_area_cm2=1.0, loads=("r500",))
    square = next(r for r in report.rows if r.waveform == "square")
    assert square.net_charge_per_pulse_uc == pytest.approx(5.0, rel=0.01)
    assert square.passed
    assert report.lowest.highest_ua == pytest.approx(HOME.max_amplitude_ua.value, rel=0.01)
