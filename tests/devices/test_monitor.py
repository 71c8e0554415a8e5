"""The telemetry monitor: each rule trips on what breaks it and stays quiet on clean frames."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.devices import TelemetryFrame
from microamp.safety import FaultCode, MonitorLimits, TelemetryMonitor


def frame(t_s: float, commanded: float, delivered: float, *flags: str) -> TelemetryFrame:
    return TelemetryFrame(t_s, commanded, delivered, delivered, 5.0, 2e4, frozenset(flags), 0.01)


@pytest.mark.requirement("SAF-MON-01")
@given(commanded=st.floats(20.0, 1000.0), fraction=st.floats(0.0, 0.099))
def test_monitor_trips_contact_lost_when_almost_no_current_flows(
    commanded: float, fraction: float
) -> None:
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    fault = monitor.observe([frame(0.01, commanded, commanded * fraction)], 0.01)
    assert fault is not None and fault.code == FaultCode.CONTACT_LOST


@pytest.mark.requirement("SAF-MON-02")
@given(
    commanded=st.floats(20.0, 1000.0),
    fraction=st.floats(0.1, 0.79),
    frames=st.integers(2, 6),
)
def test_monitor_trips_compliance_after_consecutive_short_frames_at_the_rail(
    commanded: float, fraction: float, frames: int
) -> None:
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    batch = [
        frame(0.01 * (i + 1), commanded, commanded * fraction, "compliance") for i in range(frames)
    ]
    fault = monitor.observe(batch, 0.01 * frames)
    assert fault is not None and fault.code == FaultCode.COMPLIANCE
    assert fault.onset_t_s == 0.01


@pytest.mark.requirement("SAF-MON-03")
@given(commanded=st.floats(40.0, 1000.0), error=st.floats(0.26, 0.9), low=st.booleans())
def test_monitor_trips_current_deviation_outside_compliance(
    commanded: float, error: float, low: bool
) -> None:
    delivered = commanded * (1 - error if low else 1 + error)
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    batch = [frame(0.01 * (i + 1), commanded, delivered) for i in range(3)]
    fault = monitor.observe(batch, 0.03)
    assert fault is not None
    assert fault.code in (FaultCode.CURRENT_DEVIATION, FaultCode.CONTACT_LOST)


@given(
    commanded=st.lists(st.floats(0.0, 1000.0), min_size=1, max_size=30),
    error=st.floats(-0.2, 0.2),
)
def test_monitor_stays_quiet_on_clean_frames(commanded: list[float], error: float) -> None:
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    batch = [frame(0.01 * (i + 1), c, c * (1 + error)) for i, c in enumerate(commanded)]
    assert monitor.observe(batch, 0.01 * len(commanded)) is None


@pytest.mark.requirement("SAF-MON-04")
@given(silent_s=st.floats(0.0501, 10.0))
def test_monitor_trips_when_telemetry_falls_silent(silent_s: float) -> None:
    monitor = TelemetryMonitor(MonitorLimits(silence_s=0.05))
    monitor.start(0.0)
    assert monitor.observe([frame(0.01, 100, 100)], 0.01) is None
    fault = monitor.observe([], 0.01 + silent_s)
    assert fault is not None and fault.code == FaultCode.TELEMETRY_SILENT
    assert fault.onset_t_s == 0.01


def test_monitor_ignores_silence_while_output_is_off() -> None:
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    monitor.stop()
    assert monitor.observe([], 100.0) is None


def test_monitor_never_judges_unmeasured_current() -> None:
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    assert monitor.observe([frame(0.01, 300, 0, "unmeasured")] * 5, 0.01) is None


def pulse_frame(
    t_s: float, mean: float, peak: float, delivered: float, *flags: str
) -> TelemetryFrame:
    return TelemetryFrame(
        t_s, mean, delivered, delivered, 5.0, 2e4, frozenset(flags), 0.01, commanded_peak_ua=peak
    )


@given(peak=st.floats(200.0, 1000.0), duty=st.floats(0.05, 0.066), fraction=st.floats(0.0, 0.099))
def test_monitor_judges_a_short_pulse_frame_on_its_commanded_peak(
    peak: float, duty: float, fraction: float
) -> None:
    # a 300 µs biphasic pulse at 100 Hz and 300 µA has a mean of 18 µA: below the judged floor
    mean = peak * duty
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    fault = monitor.observe([pulse_frame(0.01, mean, peak, mean * fraction)], 0.01)
    assert fault is not None and fault.code == FaultCode.CONTACT_LOST


@given(idle=st.integers(1, 20), fraction=st.floats(0.1, 0.79))
def test_frames_without_commanded_current_do_not_break_a_compliance_run(
    idle: int, fraction: float
) -> None:
    # one pulse every few frames (a low frequency or a burst), clipped at the rail each time
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    short = pulse_frame(0.01, 30.0, 300.0, 30.0 * fraction, "compliance")
    batch = [short] + [pulse_frame(0.01 * (i + 2), 0.0, 0.0, 0.0) for i in range(idle)]
    assert monitor.observe(batch, 0.01 * (idle + 1)) is None
    fault = monitor.observe(
        [pulse_frame(0.01 * (idle + 2), 30.0, 300.0, 30.0 * fraction, "compliance")], 1.0
    )
    assert fault is not None and fault.code == FaultCode.COMPLIANCE
    assert fault.onset_t_s == 0.01


@given(
    frames=st.lists(
        st.tuples(st.floats(20.0, 1000.0), st.floats(0.0, 1.0), st.floats(-0.2, 0.2)),
        min_size=1,
        max_size=30,
    )
)
def test_monitor_stays_quiet_on_pulse_frames_that_flow(
    frames: list[tuple[float, float, float]],
) -> None:
    monitor = TelemetryMonitor()
    monitor.start(0.0)
    batch = [
        pulse_frame(0.01 * (i + 1), peak * duty, peak, peak * duty * (1 + error))
        for i, (peak, duty, error) in enumerate(frames)
    ]
    assert monitor.observe(batch, 0.01 * len(frames)) is None
