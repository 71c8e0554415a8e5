"""Check a waveform, as measured, against a limit profile: every broken rule, with its numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from microamp.safety.limits import Limit, LimitProfile
from microamp.stimulus.metrics import SignalMetrics
from microamp.stimulus.waveform import Waveform

__all__ = ["LimitReport", "Violation", "check_waveform"]


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    value: float
    limit: float
    message: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class LimitReport:
    profile: str
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "ok": self.ok,
            "violations": [v.to_dict() for v in self.violations],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _above(rule: str, value: float, limit: Limit, what: str, unit: str) -> Violation | None:
    if value <= limit.value * (1 + 1e-9):
        return None
    return Violation(
        rule,
        value,
        limit.value,
        f"{what} {value:.4g} {unit} exceeds {limit.value:g} {unit}",
        limit.source,
    )


def check_waveform(
    waveform: Waveform,
    metrics: SignalMetrics,
    profile: LimitProfile,
    *,
    zone: str | None = None,
) -> LimitReport:
    """Every rule of ``profile`` that ``waveform`` (measured as ``metrics``) breaks."""
    amplitude_rule, amplitude_limit = "max_amplitude_ua", profile.max_amplitude_ua
    if zone is not None and zone in profile.zone_caps_ua:
        if profile.zone_caps_ua[zone].value < amplitude_limit.value:
            amplitude_rule, amplitude_limit = f"zone_caps_ua.{zone}", profile.zone_caps_ua[zone]
    candidates = [
        _above(amplitude_rule, metrics.peak_ua, amplitude_limit, "peak current", "µA"),
        _above(
            "max_rms_density_ma_cm2",
            metrics.rms_density_ma_cm2,
            profile.max_rms_density_ma_cm2,
            "r.m.s. current density",
            "mA/cm²",
        ),
        _above(
            "max_imbalance_uc",
            metrics.max_imbalance_uc,
            profile.max_imbalance_uc,
            "accumulated net charge",
            "µC",
        ),
        _above(
            "max_mean_dc_ua",
            metrics.max_window_mean_ua,
            profile.max_mean_dc_ua,
            f"mean (DC) current over {profile.dc_window_s.value:g} s",
            "µA",
        ),
        _above("max_session_s", metrics.duration_s, profile.max_session_s, "duration", "s"),
        _above(
            "max_frequency_hz", waveform.frequency_hz, profile.max_frequency_hz, "frequency", "Hz"
        ),
    ]
    violations = [v for v in candidates if v is not None]
    if waveform.frequency_hz < profile.min_frequency_hz.value:
        violations.append(
            Violation(
                "min_frequency_hz",
                waveform.frequency_hz,
                profile.min_frequency_hz.value,
                f"frequency {waveform.frequency_hz:g} Hz is below {profile.min_frequency_hz.value:g} Hz",
                profile.min_frequency_hz.source,
            )
        )
    warning = _above(
        "warn_rms_density_ma_cm2",
        metrics.rms_density_ma_cm2,
        profile.warn_rms_density_ma_cm2,
        "r.m.s. current density",
        "mA/cm²",
    )
    warnings = (
        [warning]
        if warning is not None and not any(v.rule == "max_rms_density_ma_cm2" for v in violations)
        else []
    )
    return LimitReport(profile.name, violations, warnings)
