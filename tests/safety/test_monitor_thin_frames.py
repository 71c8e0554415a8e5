"""The host's monitor leaves frames too thin to judge to the device's own per-sample trip."""

from __future__ import annotations

from microamp.safety.monitor import TelemetryMonitor


def test_a_frame_whose_mean_is_too_thin_to_judge_is_left_to_the_device_whatever_its_peak() -> None:
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class Frame:
        t_s: float
        commanded_ua: float
        delivered_ua: float
        voltage_v: float = 5.0
        flags: frozenset[str] = field(default_factory=frozenset)
        commanded_peak_ua: float = 0.0

    monitor = TelemetryMonitor()
    monitor.start(0.0)
    # a 300 µA pulse whose mean over the frame is 5 µA: nothing flowed, but the host cannot tell
    # a thin pulse from noise; the device's own per-sample trip judges it
    thin = Frame(1.0, 5.0, 0.0, commanded_peak_ua=300.0)
    assert monitor.observe([thin], 1.0) is None
