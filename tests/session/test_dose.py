"""The dose ledger: charge, time, mean current and impedance per zone, from telemetry only."""

from __future__ import annotations

import math

import pytest

from microamp.devices.base import TelemetryFrame
from microamp.session import DoseLedger


def frame(
    t_s: float, delivered_ua: float, impedance_ohm: float, window_s: float = 0.01
) -> TelemetryFrame:
    return TelemetryFrame(t_s, delivered_ua, delivered_ua, delivered_ua * 2, 1.0, impedance_ohm,
                          window_s=window_s)  # fmt: skip


def test_charge_time_and_means_are_summed_per_zone() -> None:
    ledger = DoseLedger()
    for i in range(100):
        ledger.add("cheeks", frame(0.01 * (i + 1), 150.0, 20_000.0))
    for i in range(50):
        ledger.add("eyes", frame(1.0 + 0.01 * (i + 1), 80.0, 30_000.0 if i % 2 else math.inf))
    cheeks, eyes = ledger.zone("cheeks"), ledger.zone("eyes")
    assert cheeks.charge_uc == pytest.approx(150.0)
    assert cheeks.stimulation_s == pytest.approx(1.0)
    assert cheeks.mean_current_ua == pytest.approx(150.0)
    assert cheeks.mean_impedance_ohm == pytest.approx(20_000.0)
    assert eyes.mean_impedance_ohm == pytest.approx(30_000.0)  # open-circuit frames are left out
    assert ledger.total_charge_uc == pytest.approx(150.0 + 40.0)
    assert list(ledger.by_zone()) == ["cheeks", "eyes"]


def test_frames_without_output_count_nowhere() -> None:
    ledger = DoseLedger()
    ledger.add(None, frame(0.01, 100.0, 1000.0))
    assert ledger.by_zone() == {} and ledger.total_charge_uc == 0.0


def test_a_backend_without_windows_is_timed_from_frame_to_frame() -> None:
    ledger = DoseLedger()
    ledger.add("chin", frame(0.0, 100.0, 1000.0, window_s=0.0))
    ledger.add("chin", frame(0.5, 100.0, 1000.0, window_s=0.0))
    assert ledger.zone("chin").charge_uc == pytest.approx(50.0)
    assert ledger.zone("chin").mean_impedance_ohm == pytest.approx(1000.0)
