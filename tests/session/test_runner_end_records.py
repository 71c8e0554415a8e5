"""How a session ends, as its events and summary record it: the fault that aborted it (or the
driver error when the device could say nothing), the reasons it was refused, and the steps it
completed before it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microamp.protocols import Protocol, parse_protocol
from microamp.safety import get_profile
from microamp.session import Event, SessionRunner, SessionStatus
from microamp.session.prechecks import CheckResult, Prechecks

HOME = get_profile("home")


def kinds(events: list[Event], kind: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in events if e.kind == kind]


def test_a_fault_is_reported_with_its_step_time_code_and_message_and_ends_the_session(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim("sim://?load=gel&fault=contact-loss@8.2")
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), device, profile=HOME, subscribers=[events.append])
    summary = runner.run()
    assert summary.status is SessionStatus.ABORTED
    [raised] = kinds(events, "fault")
    [fault] = summary.faults
    assert raised["step"] == 0
    assert raised["code"] == "contact_lost" == fault["code"]
    assert raised["message"] == fault["message"] != ""
    assert raised["fault"] == fault
    assert raised["t_s"] == kinds(events, "ended")[0]["t_s"] == summary.duration_s
    assert summary.reason == fault["message"]
    assert kinds(events, "ended")[0]["reason"] == fault["message"]


def test_a_device_lost_mid_session_is_one_driver_error_naming_the_failure(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), device, profile=HOME, subscribers=[events.append])
    assert runner.start()
    while runner.position_s < 2.0:
        runner.tick()
    device.close()
    runner.tick()  # the next poll finds the device gone, after the tick's sleep
    assert runner.status is SessionStatus.ABORTED
    [fault] = runner.summary().faults
    assert fault["code"] == "driver_error"
    assert fault["detail"] == {"error": "the sim device is closed"}
    assert fault["detected_t_s"] == device.clock.now()
    assert [e["step"] for e in kinds(events, "fault")] == [0]


def test_every_reason_a_session_is_refused_for_is_recorded(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    reasons = ["pacemaker declared", "pregnant"]
    events: list[Event] = []
    screening = Prechecks(screening=lambda ctx: CheckResult.refused(reasons))
    runner = SessionRunner(
        small_protocol(), open_sim(), profile=HOME, prechecks=screening, subscribers=[events.append]
    )
    summary = runner.run()
    assert summary.status is SessionStatus.REFUSED
    assert summary.reason == "pacemaker declared; pregnant"
    [refused] = kinds(events, "refused")
    assert refused["reasons"] == reasons
    assert refused["t_s"] == kinds(events, "ended")[0]["t_s"] == summary.duration_s


def test_each_completed_step_reports_the_charge_and_time_its_zone_received(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append])
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED
    assert summary.reason == "every step was completed"
    assert kinds(events, "ended")[0]["reason"] == "every step was completed"
    completed = kinds(events, "step_completed")
    assert [c["step"] for c in completed] == [0, 1, 2]
    assert [c["zone"] for c in completed] == [s.zone for s in runner.planned]
    for record in completed:  # the small protocol treats each zone in one step
        dose = summary.dose_by_zone[record["zone"]]
        assert record["charge_uc"] == dose.charge_uc > 0.0
        assert record["stimulation_s"] == dose.stimulation_s > 0.0


def test_the_summary_names_the_protocol_and_counts_what_ran(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    protocol = small_protocol()
    events: list[Event] = []
    runner = SessionRunner(protocol, open_sim(), profile=HOME, subscribers=[events.append])
    summary = runner.run()
    assert (summary.protocol, summary.protocol_version) == ("small", "1")
    assert summary.content_hash == protocol.content_hash()
    assert summary.duration_s == runner.t_s > 0.0
    assert summary.stimulation_s == sum(d.stimulation_s for d in summary.dose_by_zone.values())
    assert summary.stimulation_s > 0.0
    assert summary.steps_total == 3
    assert summary.events_count == len(events)


def test_a_session_stopped_in_its_second_step_records_only_the_first_as_completed(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)

    def stop_in_second_step(event: Event) -> None:
        if event.kind == "step_started" and event.to_dict()["position"] == 1:
            runner.stop()

    runner.subscribe(stop_in_second_step)
    summary = runner.run()
    assert summary.status is SessionStatus.STOPPED
    assert [s["completed"] for s in summary.steps] == [True, False, False]


def test_a_telemetry_subscriber_added_after_construction_sees_every_frame(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    frames: list[Any] = []
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME)
    runner.subscribe_telemetry(frames.append)
    runner.run()
    assert frames and frames[-1] is runner.last_frame
    assert [f.t_s for f in frames] == sorted(f.t_s for f in frames)


def test_a_command_the_device_refuses_mid_session_is_a_driver_error_naming_the_refusal(
    open_sim: Any,
) -> None:
    # planned under the professional profile, run on a device that holds the home one: the
    # device refuses the first command above its 400 µA, and only the refusal can say why
    professional = get_profile("professional")
    protocol = parse_protocol(
        {
            "name": "strong", "title": "Strong", "version": "1", "audience": "professional",
            "example": True, "description": "Above what a home device allows.",
            "defaults": {"hold_s": 4.0, "glide_s": 4.0, "repetitions": 1, "ramp_s": 1.0,
                         "cue_interval_s": 4.0,
                         "waveform": {"shape": "square", "amplitude_ua": 450.0,
                                      "frequency_hz": 10.0}},
            "steps": [{"muscle": "masseter", "side": "left"}],
        },
        professional,
    )  # fmt: skip
    device = open_sim()
    events: list[Event] = []
    runner = SessionRunner(protocol, device, profile=professional, subscribers=[events.append])
    summary = runner.run()
    assert summary.status is SessionStatus.ABORTED
    [fault] = summary.faults
    assert fault["code"] == "driver_error"
    assert fault["detail"]["error"].startswith("amplitude_ua: ")
    assert "profile limit of 400" in fault["detail"]["error"]
    assert fault["detected_t_s"] == device.clock.now()
    assert device.command is None


def test_the_current_measured_as_each_repetition_ramps_to_zero_counts_toward_its_zone(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    # the tick that commands zero at a repetition's end still measures the current falling to
    # it: the ledger holds the charge of every frame that measured any, none left uncounted
    frames: list[Any] = []
    runner = SessionRunner(
        small_protocol(), open_sim(), profile=HOME, telemetry_subscribers=[frames.append]
    )
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED
    measured_uc = sum(max(0.0, f.delivered_ua) * f.window_s for f in frames)
    assert measured_uc > 0.0
    assert abs(summary.delivered_charge_uc - measured_uc) <= 1e-9 * measured_uc
