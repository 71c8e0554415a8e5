"""The telemetry monitor's fault records (when it began, when seen, what the frame said) and its
thresholds taken exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from microamp.safety.faults import Fault, FaultCode
from microamp.safety.monitor import TelemetryMonitor


@dataclass(frozen=True)
class Frame:
    t_s: float
    commanded_ua: float
    delivered_ua: float
    voltage_v: float = 5.0
    flags: frozenset[str] = field(default_factory=frozenset)
    commanded_peak_ua: float = 0.0  # unknown, as over the serial wire: judged on the mean


def watching(now_s: float = 0.0) -> TelemetryMonitor:
    monitor = TelemetryMonitor()
    monitor.start(now_s)
    return monitor


def test_a_monitor_never_started_reports_no_silence() -> None:
    assert TelemetryMonitor().observe([], 100.0) is None


def test_silence_of_exactly_the_allowed_time_is_not_a_fault() -> None:
    assert watching(0.0).observe([], 0.05) is None


def test_silence_with_no_frame_ever_dates_from_the_start() -> None:
    monitor = watching(1.0)

    fault = monitor.observe([], 1.25)

    assert fault is not None
    assert (fault.code, fault.onset_t_s, fault.detected_t_s) == (
        FaultCode.TELEMETRY_SILENT,
        1.0,
        1.25,
    )
    assert fault.detail == {"silent_s": 0.25}


def test_silence_after_frames_dates_from_the_last_frame_and_counts_from_its_arrival() -> None:
    monitor = watching(0.0)
    monitor.observe([Frame(0.5, 100.0, 100.0)], 0.5)

    fault = monitor.observe([], 1.0)

    assert fault == Fault.of(
        FaultCode.TELEMETRY_SILENT, onset_t_s=0.5, detected_t_s=1.0, detail={"silent_s": 0.5}
    )


def test_frames_heard_while_output_is_off_still_date_a_later_silence() -> None:
    monitor = TelemetryMonitor()
    monitor.observe([Frame(1.0, 0.0, 0.0), Frame(2.0, 0.0, 0.0)], 2.0)
    monitor.start(3.0)

    fault = monitor.observe([], 3.5)

    assert fault is not None and fault.onset_t_s == 2.0


def test_contact_loss_records_the_frame_time_the_detection_time_and_the_frame() -> None:
    frame = Frame(4.0, 200.0, 5.0, voltage_v=12.5, flags=frozenset({"b", "a"}))

    fault = watching().observe([frame], 4.01)

    assert fault == Fault.of(
        FaultCode.CONTACT_LOST,
        onset_t_s=4.0,
        detected_t_s=4.01,
        detail={
            "commanded_ua": 200.0,
            "delivered_ua": 5.0,
            "voltage_v": 12.5,
            "flags": ["a", "b"],
        },
    )


def test_an_open_circuit_flag_is_contact_loss_whatever_the_current_reads() -> None:
    frame = Frame(1.0, 200.0, 200.0, flags=frozenset({"open_circuit"}))

    fault = watching().observe([frame], 1.0)

    assert fault is not None and fault.code is FaultCode.CONTACT_LOST


def test_compliance_dates_from_its_first_short_frame_and_the_exact_fraction_is_not_short() -> None:
    rail = frozenset({"compliance"})
    at_fraction = watching()
    assert at_fraction.observe([Frame(t, 100.0, 80.0, flags=rail) for t in (1.0, 2.0)], 2.0) is None

    fault = watching().observe([Frame(t, 100.0, 70.0, flags=rail) for t in (1.0, 2.0)], 2.5)

    assert fault is not None
    assert (fault.code, fault.onset_t_s, fault.detected_t_s) == (FaultCode.COMPLIANCE, 1.0, 2.5)


def test_deviation_dates_from_the_first_frame_of_its_run() -> None:
    frames = [Frame(t, 100.0, 50.0) for t in (1.0, 2.0, 3.0)]

    fault = watching().observe(frames, 3.5)

    assert fault is not None
    assert (fault.code, fault.onset_t_s, fault.detected_t_s) == (
        FaultCode.CURRENT_DEVIATION,
        1.0,
        3.5,
    )


def test_a_deviation_of_exactly_the_allowed_fraction_is_not_a_fault() -> None:
    frames = [Frame(t, 100.0, 75.0) for t in (1.0, 2.0, 3.0)]

    assert watching().observe(frames, 3.0) is None


def test_deviation_is_judged_from_exactly_its_minimum_current() -> None:
    # a 20 µA pulse at half duty: judged (its peak reaches 20 µA, its mean 10 µA), and its 10 µA
    # mean is exactly the deviation minimum
    frames = [Frame(t, 10.0, 5.0, commanded_peak_ua=20.0) for t in (1.0, 2.0, 3.0)]

    fault = watching().observe(frames, 3.0)

    assert fault is not None and fault.code is FaultCode.CURRENT_DEVIATION


@given(delivered=st.floats(0, 400), commanded=st.floats(20, 400))
def test_a_frame_delivering_under_a_tenth_of_a_judged_command_is_always_contact_loss(
    delivered: float, commanded: float
) -> None:
    fault = watching().observe([Frame(1.0, commanded, delivered)], 1.0)

    if delivered < 0.1 * commanded:
        assert fault is not None and fault.code is FaultCode.CONTACT_LOST
    else:
        assert fault is None or fault.code is not FaultCode.CONTACT_LOST
