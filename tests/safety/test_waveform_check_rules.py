"""`check_waveform`: each rule breaks just past its limit, never at it, and says which limit and why."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.safety import check_waveform, get_profile
from microamp.safety.check import LimitReport, Violation
from microamp.safety.limits import Limit
from microamp.stimulus.metrics import SignalMetrics
from microamp.stimulus.waveform import Waveform

HOME = get_profile("home")

# well inside every home limit
QUIET = SignalMetrics(
    duration_s=60.0,
    peak_ua=100.0,
    rms_ua=70.0,
    mean_ua=0.0,
    net_charge_uc=0.0,
    abs_charge_uc=10.0,
    max_imbalance_uc=5.0,
    max_phase_charge_uc=5.0,
    max_window_mean_ua=1.0,
    rms_density_ma_cm2=0.1,
)
WAVE = Waveform(frequency_hz=10.0)

# metric field, rule, limit
SCALAR_RULES = [
    ("peak_ua", "max_amplitude_ua", HOME.max_amplitude_ua),
    ("rms_density_ma_cm2", "max_rms_density_ma_cm2", HOME.max_rms_density_ma_cm2),
    ("max_imbalance_uc", "max_imbalance_uc", HOME.max_imbalance_uc),
    ("max_window_mean_ua", "max_mean_dc_ua", HOME.max_mean_dc_ua),
    ("duration_s", "max_session_s", HOME.max_session_s),
]


def test_a_signal_inside_every_limit_has_no_violation_and_no_warning() -> None:
    report = check_waveform(WAVE, QUIET, HOME)

    assert report == LimitReport("home", [], [])
    assert report.ok


@pytest.mark.parametrize(("metric", "rule", "limit"), SCALAR_RULES)
def test_a_metric_exactly_at_its_limit_passes(metric: str, rule: str, limit: Limit) -> None:
    report = check_waveform(WAVE, replace(QUIET, **{metric: limit.value}), HOME)

    assert rule not in [v.rule for v in report.violations]


@pytest.mark.requirement("SAF-TIME-01", "SAF-DENS-01")
@pytest.mark.parametrize(("metric", "rule", "limit"), SCALAR_RULES)
def test_a_metric_just_past_its_limit_is_one_violation_naming_value_limit_and_source(
    metric: str, rule: str, limit: Limit
) -> None:
    value = limit.value * (1 + 1e-6)
    report = check_waveform(WAVE, replace(QUIET, **{metric: value}), HOME)

    assert not report.ok
    assert [(v.rule, v.value, v.limit, v.source) for v in report.violations] == [
        (rule, value, limit.value, limit.source)
    ]


@pytest.mark.parametrize(("metric", "rule", "limit"), SCALAR_RULES)
def test_a_metric_at_the_limit_plus_its_rounding_allowance_passes(
    metric: str, rule: str, limit: Limit
) -> None:
    value = limit.value * (1 + 1e-9)
    report = check_waveform(WAVE, replace(QUIET, **{metric: value}), HOME)

    assert rule not in [v.rule for v in report.violations]


def test_rounding_noise_far_below_a_part_per_million_is_not_a_violation() -> None:
    value = HOME.max_amplitude_ua.value * (1 + 1e-10)

    assert check_waveform(WAVE, replace(QUIET, peak_ua=value), HOME).ok


def test_each_message_names_the_quantity_its_value_its_limit_and_the_unit() -> None:
    loud = replace(
        QUIET,
        peak_ua=450.0,
        rms_density_ma_cm2=2.5,
        max_imbalance_uc=1200.0,
        max_window_mean_ua=150.0,
        duration_s=1500.0,
    )
    report = check_waveform(Waveform(frequency_hz=1200.0), loud, HOME)

    assert {v.rule: v.message for v in report.violations} == {
        "max_amplitude_ua": "peak current 450 µA exceeds 400 µA",
        "max_rms_density_ma_cm2": "r.m.s. current density 2.5 mA/cm² exceeds 2 mA/cm²",
        "max_imbalance_uc": "accumulated net charge 1200 µC exceeds 1000 µC",
        "max_mean_dc_ua": "mean (DC) current over 10 s 150 µA exceeds 100 µA",
        "max_session_s": "duration 1500 s exceeds 1200 s",
        "max_frequency_hz": "frequency 1200 Hz exceeds 1000 Hz",
    }


@pytest.mark.requirement("SAF-FREQ-01")
def test_a_frequency_past_the_maximum_is_a_violation_and_at_it_is_not() -> None:
    at = check_waveform(Waveform(frequency_hz=1000.0), QUIET, HOME)
    past = check_waveform(Waveform(frequency_hz=1001.0), QUIET, HOME)

    assert at.ok
    assert [(v.rule, v.value, v.limit, v.source) for v in past.violations] == [
        ("max_frequency_hz", 1001.0, 1000.0, HOME.max_frequency_hz.source)
    ]


def test_a_frequency_below_the_minimum_is_a_violation_that_says_so() -> None:
    profile = HOME.model_copy(update={"min_frequency_hz": Limit(value=5.0, source="clinic")})

    at = check_waveform(Waveform(frequency_hz=5.0), QUIET, profile)
    below = check_waveform(Waveform(frequency_hz=4.0), QUIET, profile)

    assert at.ok
    assert below.violations == [
        Violation("min_frequency_hz", 4.0, 5.0, "frequency 4 Hz is below 5 Hz", "clinic")
    ]


def test_a_zone_with_a_lower_cap_is_checked_against_that_cap_under_its_own_rule() -> None:
    metrics = replace(QUIET, peak_ua=250.0)

    report = check_waveform(WAVE, metrics, HOME, zone="eyes")

    assert [(v.rule, v.limit, v.source) for v in report.violations] == [
        ("zone_caps_ua.eyes", 200.0, HOME.zone_caps_ua["eyes"].source)
    ]
    assert check_waveform(WAVE, metrics, HOME, zone="cheeks").ok
    assert check_waveform(WAVE, metrics, HOME).ok


def test_a_zone_cap_above_the_profile_amplitude_never_raises_the_limit() -> None:
    caps = {"cheeks": Limit(value=600.0, source="loose")}
    profile = HOME.model_copy(update={"zone_caps_ua": caps})

    report = check_waveform(WAVE, replace(QUIET, peak_ua=450.0), profile, zone="cheeks")

    assert [(v.rule, v.limit) for v in report.violations] == [("max_amplitude_ua", 400.0)]


def test_a_zone_cap_equal_to_the_profile_amplitude_keeps_the_profile_rule() -> None:
    caps = {"cheeks": Limit(value=400.0, source="same")}
    profile = HOME.model_copy(update={"zone_caps_ua": caps})

    report = check_waveform(WAVE, replace(QUIET, peak_ua=450.0), profile, zone="cheeks")

    assert [v.rule for v in report.violations] == ["max_amplitude_ua"]


@pytest.mark.requirement("SAF-DENS-02")
def test_a_density_between_warning_and_limit_is_a_warning_not_a_violation() -> None:
    report = check_waveform(WAVE, replace(QUIET, rms_density_ma_cm2=1.5), HOME)

    assert report.ok
    assert report.warnings == [
        Violation(
            "warn_rms_density_ma_cm2",
            1.5,
            1.0,
            "r.m.s. current density 1.5 mA/cm² exceeds 1 mA/cm²",
            HOME.warn_rms_density_ma_cm2.source,
        )
    ]


def test_a_density_past_the_limit_is_a_violation_without_a_second_warning() -> None:
    report = check_waveform(WAVE, replace(QUIET, rms_density_ma_cm2=2.5), HOME)

    assert [v.rule for v in report.violations] == ["max_rms_density_ma_cm2"]
    assert report.warnings == []


def test_another_violation_does_not_hide_the_density_warning() -> None:
    report = check_waveform(WAVE, replace(QUIET, rms_density_ma_cm2=1.5, peak_ua=450.0), HOME)

    assert [v.rule for v in report.violations] == ["max_amplitude_ua"]
    assert [w.rule for w in report.warnings] == ["warn_rms_density_ma_cm2"]


def test_the_report_as_a_dict_carries_the_profile_the_verdict_and_every_finding() -> None:
    report = check_waveform(WAVE, replace(QUIET, rms_density_ma_cm2=1.5, peak_ua=450.0), HOME)

    assert report.to_dict() == {
        "profile": "home",
        "ok": False,
        "violations": [
            {
                "rule": "max_amplitude_ua",
                "value": 450.0,
                "limit": 400.0,
                "message": "peak current 450 µA exceeds 400 µA",
                "source": HOME.max_amplitude_ua.source,
            }
        ],
        "warnings": [
            {
                "rule": "warn_rms_density_ma_cm2",
                "value": 1.5,
                "limit": 1.0,
                "message": "r.m.s. current density 1.5 mA/cm² exceeds 1 mA/cm²",
                "source": HOME.warn_rms_density_ma_cm2.source,
            }
        ],
    }
    assert check_waveform(WAVE, QUIET, HOME).to_dict()["ok"] is True


@given(
    peak_ua=st.floats(0, 1000),
    density=st.floats(0, 3),
    imbalance_uc=st.floats(0, 2000),
    dc_ua=st.floats(0, 200),
    duration_s=st.floats(0, 3000),
)
def test_a_signal_passes_exactly_when_every_metric_is_within_its_limit(
    peak_ua: float, density: float, imbalance_uc: float, dc_ua: float, duration_s: float
) -> None:
    metrics = replace(
        QUIET,
        peak_ua=peak_ua,
        rms_density_ma_cm2=density,
        max_imbalance_uc=imbalance_uc,
        max_window_mean_ua=dc_ua,
        duration_s=duration_s,
    )
    within = all(
        getattr(metrics, metric) <= limit.value * (1 + 1e-9) for metric, _, limit in SCALAR_RULES
    )

    assert check_waveform(WAVE, metrics, HOME).ok is within
