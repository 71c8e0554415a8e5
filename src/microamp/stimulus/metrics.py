"""Measurements of a rendered current signal (samples in µA at a known sample rate).

Charge is in µC: a µA flowing for a second is a µC, so a sample contributes x_ua / fs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue

__all__ = [
    "SignalMetrics",
    "abs_charge_uc",
    "max_imbalance_uc",
    "max_window_mean_ua",
    "mean_ua",
    "measure",
    "net_charge_uc",
    "peak_ua",
    "phase_charges_uc",
    "rms_density_ma_cm2",
    "rms_ua",
]

FloatArray = npt.NDArray[np.float64]


def peak_ua(samples_ua: FloatArray) -> float:
    return float(np.max(np.abs(samples_ua))) if samples_ua.size else 0.0


def rms_ua(samples_ua: FloatArray) -> float:
    return float(np.sqrt(np.mean(np.square(samples_ua)))) if samples_ua.size else 0.0


def mean_ua(samples_ua: FloatArray) -> float:
    """The DC component: the plain mean of the current."""
    return float(np.mean(samples_ua)) if samples_ua.size else 0.0


def net_charge_uc(samples_ua: FloatArray, sample_rate_hz: float) -> float:
    return float(np.sum(samples_ua)) / sample_rate_hz


def abs_charge_uc(samples_ua: FloatArray, sample_rate_hz: float) -> float:
    return float(np.sum(np.abs(samples_ua))) / sample_rate_hz


def max_imbalance_uc(samples_ua: FloatArray, sample_rate_hz: float) -> float:
    """The largest net charge accumulated at any moment since the first sample."""
    if not samples_ua.size:
        return 0.0
    return float(np.max(np.abs(np.cumsum(samples_ua)))) / sample_rate_hz


def max_window_mean_ua(samples_ua: FloatArray, sample_rate_hz: float, window_s: float) -> float:
    """The largest |mean current| over any window of ``window_s`` (the whole signal if shorter)."""
    n = samples_ua.size
    if not n:
        return 0.0
    window = max(1, int(round(window_s * sample_rate_hz)))
    if window >= n:
        return abs(mean_ua(samples_ua))
    cumulative = np.concatenate(([0.0], np.cumsum(samples_ua)))
    sums = cumulative[window:] - cumulative[:-window]
    return float(np.max(np.abs(sums))) / window


def phase_charges_uc(samples_ua: FloatArray, sample_rate_hz: float) -> FloatArray:
    """The signed charge of each phase: each run of samples of one sign, zeros ending a run."""
    signs = np.sign(samples_ua)
    nonzero = signs != 0
    if not nonzero.any():
        return np.zeros(0)
    # a new phase starts at a nonzero sample whose sign differs from the previous sample's
    previous = np.concatenate(([0.0], signs[:-1]))
    starts = nonzero & (signs != previous)
    labels = np.cumsum(starts)[nonzero] - 1
    return np.bincount(labels, weights=samples_ua[nonzero]) / sample_rate_hz


def rms_density_ma_cm2(rms_current_ua: float, electrode_area_cm2: float) -> float:
    """r.m.s. current density under an electrode, in mA/cm² (IEC 60601-2-10 uses this unit)."""
    if not (math.isfinite(electrode_area_cm2) and electrode_area_cm2 > 0):
        raise InvalidValue("electrode_area_cm2", electrode_area_cm2, "must be greater than 0 cm²")
    return rms_current_ua / 1000.0 / electrode_area_cm2


@dataclass(frozen=True, slots=True)
class SignalMetrics:
    duration_s: float
    peak_ua: float
    rms_ua: float
    mean_ua: float
    net_charge_uc: float
    abs_charge_uc: float
    max_imbalance_uc: float
    max_phase_charge_uc: float
    max_window_mean_ua: float
    rms_density_ma_cm2: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def measure(
    samples_ua: FloatArray,
    sample_rate_hz: float,
    *,
    electrode_area_cm2: float,
    dc_window_s: float = 10.0,
) -> SignalMetrics:
    """Every metric of one signal at once."""
    rms = rms_ua(samples_ua)
    phases = phase_charges_uc(samples_ua, sample_rate_hz)
    return SignalMetrics(
        duration_s=samples_ua.size / sample_rate_hz,
        peak_ua=peak_ua(samples_ua),
        rms_ua=rms,
        mean_ua=mean_ua(samples_ua),
        net_charge_uc=net_charge_uc(samples_ua, sample_rate_hz),
        abs_charge_uc=abs_charge_uc(samples_ua, sample_rate_hz),
        max_imbalance_uc=max_imbalance_uc(samples_ua, sample_rate_hz),
        max_phase_charge_uc=float(np.max(np.abs(phases))) if phases.size else 0.0,
        max_window_mean_ua=max_window_mean_ua(samples_ua, sample_rate_hz, dc_window_s),
        rms_density_ma_cm2=rms_density_ma_cm2(rms, electrode_area_cm2),
    )
