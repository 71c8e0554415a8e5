"""A planned step checked against a limit profile: the waveform measured, every rule it breaks.

Each error points at the waveform field to change (``amplitude_ua``, ``frequency_hz``,
``polarity``, or ``reversal_s`` when alternation is too slow) where the step sets it, or at
``defaults.waveform`` when the step inherits it, and names the step, zone, rule and source.
"""

from __future__ import annotations

import functools

from microamp.errors import InvalidValue
from microamp.protocols.schema import PlannedStep, Step
from microamp.safety.check import check_waveform
from microamp.safety.limits import LimitProfile
from microamp.stimulus.metrics import SignalMetrics, measure
from microamp.stimulus.renderer import render_steady
from microamp.stimulus.waveform import Waveform

__all__ = ["step_limit_errors", "waveform_field_path"]


def waveform_field_path(at: str, step: Step, field: str) -> str:
    return f"{at}.waveform.{field}" if field in step.waveform else f"defaults.waveform.{field}"


# Which waveform field a broken limit points at.
_RULE_FIELDS = {
    "max_amplitude_ua": "amplitude_ua",
    "max_rms_density_ma_cm2": "amplitude_ua",
    "max_imbalance_uc": "polarity",
    "max_mean_dc_ua": "polarity",
    "max_frequency_hz": "frequency_hz",
    "min_frequency_hz": "frequency_hz",
}


def step_limit_errors(
    planned: PlannedStep, step: Step, profile: LimitProfile, protocol_max_ua: float | None
) -> list[InvalidValue]:
    at = f"steps[{planned.index}]"
    errors: list[InvalidValue] = []
    requested = planned.requested_ua
    amplitude_path = waveform_field_path(at, step, "amplitude_ua")
    if protocol_max_ua is not None and requested > protocol_max_ua * (1 + 1e-9):
        message = f"peak current {requested:g} µA is above {protocol_max_ua:g} µA"
        errors.append(
            InvalidValue(
                amplitude_path,
                planned.waveform.amplitude_ua,
                _limit_rule(at, planned, profile, "max_amplitude_ua", message, "protocol").replace(
                    f"the {profile.name} profile's", "the protocol's"
                ),
            )
        )
    metrics = _metrics(
        planned.waveform.with_amplitude(requested),
        planned.electrode_area_cm2,
        profile.dc_window_s.value,
    )
    report = check_waveform(planned.waveform, metrics, profile, zone=planned.zone)
    for v in report.violations:
        if v.rule == "max_session_s":
            continue
        field = "amplitude_ua" if v.rule.startswith("zone_caps_ua") else _RULE_FIELDS[v.rule]
        if field == "polarity" and planned.waveform.polarity == "alternating":
            field = "reversal_s"  # alternating already balances: the reversals are too far apart
        path = amplitude_path if field == "amplitude_ua" else waveform_field_path(at, step, field)
        value = getattr(planned.waveform, field)
        errors.append(
            InvalidValue(
                path, value, _limit_rule(at, planned, profile, v.rule, v.message, v.source)
            )
        )
    return errors


def _limit_rule(
    at: str, planned: PlannedStep, profile: LimitProfile, rule: str, message: str, source: str
) -> str:
    scaled = f" at intensity {planned.intensity:g}" if planned.intensity < 1 else ""
    return (
        f"in {at} ({planned.zone} zone{scaled}) {message}: the {profile.name} profile's {rule} "
        f"[{source}]"
    )


def _sample_rate_hz(waveform: Waveform) -> float:
    rate = max(4_000.0, 50.0 * waveform.frequency_hz)
    if waveform.shape == "pulse":
        rate = max(rate, 20.0 / (waveform.phase_us * 1e-6))
    return min(rate, 200_000.0)


@functools.lru_cache(maxsize=512)
def _metrics(waveform: Waveform, electrode_area_cm2: float, dc_window_s: float) -> SignalMetrics:
    """The waveform measured over long enough to see its DC and net-charge behaviour."""
    duration_s = max(1.5 * dc_window_s, 4 * waveform.reversal_s, 5 / waveform.frequency_hz)
    rate = _sample_rate_hz(waveform)
    duration_s = min(duration_s, 2_000_000 / rate)
    samples = render_steady(waveform, duration_s, rate)
    return measure(samples, rate, electrode_area_cm2=electrode_area_cm2, dc_window_s=dc_window_s)
