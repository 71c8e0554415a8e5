"""The session runner on the real sim backend, in simulated time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from microamp.errors import InvalidValues
from microamp.protocols import Protocol, library_names, load_protocol
from microamp.safety import get_profile
from microamp.session import (
    CheckResult,
    Event,
    Prechecks,
    SessionOptions,
    SessionRunner,
    SessionStatus,
)

HOME = get_profile("home")
PRO = get_profile("professional")


def profile_for(protocol: Protocol) -> Any:
    return PRO if protocol.audience == "professional" else HOME


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n == "pro-lift" else n for n in library_names()],
)
def test_every_library_protocol_runs_to_completion_on_gel(name: str, open_sim: Any) -> None:
    protocol = load_protocol(name)
    profile = profile_for(protocol)
    device = open_sim("sim://?load=gel&rate_hz=5000", profile)
    runner = SessionRunner(protocol, device, profile=profile)
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED, summary.reason
    assert summary.steps_completed == summary.steps_total == len(protocol.steps)
    assert summary.faults == []
    assert set(summary.dose_by_zone) == {s.zone for s in runner.planned}
    assert all(d.charge_uc > 0 and d.mean_impedance_ohm for d in summary.dose_by_zone.values())
    assert summary.duration_s >= sum(s.duration_s for s in runner.planned)
    assert device.command is None


@pytest.mark.requirement("SAF-SES-01")
def test_contact_loss_mid_step_aborts_with_zero_output_and_a_fault(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    # prechecks take 1.5 s; the loss falls in the middle of the second repetition of step 1
    device = open_sim("sim://?load=gel&fault=contact-loss@8.2")
    frames: list[Any] = []
    events: list[Event] = []
    runner = SessionRunner(
        small_protocol(), device, profile=HOME,
        subscribers=[events.append], telemetry_subscribers=[frames.append],
    )  # fmt: skip
    summary = runner.run()
    assert summary.status is SessionStatus.ABORTED
    assert [f["code"] for f in summary.faults] == ["contact_lost"]
    fault = summary.faults[0]
    assert fault["zero_t_s"] - fault["onset_t_s"] < 0.01
    assert device.command is None and device.fault is not None
    assert [e.kind for e in events][-2:] == ["fault", "ended"]
    # nothing was commanded after the fault, and what the device measured after it is zero
    assert all(t <= fault["zero_t_s"] for t, _ in device.commands)
    assert all(f.peak_ua == 0.0 for f in frames if f.t_s > fault["zero_t_s"] + 0.011)


def test_a_refusing_screening_hook_means_no_current_at_all(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    screening = Prechecks(screening=lambda ctx: CheckResult.refused(["pacemaker declared"]))
    runner = SessionRunner(
        small_protocol(), device, profile=HOME, prechecks=screening, subscribers=[events.append]
    )
    summary = runner.run()
    assert summary.status is SessionStatus.REFUSED
    assert summary.reason == "pacemaker declared"
    assert device.commands == []
    assert [e.kind for e in events] == ["started", "precheck", "refused", "ended"]
    assert summary.delivered_charge_uc == 0.0


@pytest.mark.requirement("SAF-PRE-02")
def test_a_failing_contact_check_refuses_after_only_the_test_current(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim("sim://?load=lifted")
    summary = SessionRunner(small_protocol(), device, profile=HOME).run()
    assert summary.status is SessionStatus.REFUSED
    assert {c.waveform.amplitude_ua for _, c in device.commands} == {50.0}


def test_zones_to_avoid_are_removed_and_the_runner_says_so(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    events: list[Event] = []
    screening = Prechecks(screening=lambda ctx: CheckResult.passed(avoid_zones=["eyes"]))
    runner = SessionRunner(
        small_protocol(), device, profile=HOME, prechecks=screening, subscribers=[events.append]
    )
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED
    skipped = [e for e in events if e.kind == "step_skipped"]
    assert [e.to_dict()["zone"] for e in skipped] == ["eyes"]
    assert summary.steps_skipped == 1 and summary.steps_completed == 2
    assert "eyes" not in {c.zone for _, c in device.commands}
    assert "eyes" not in summary.dose_by_zone


def test_every_step_is_refused_when_every_zone_is_avoided(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    options = SessionOptions(avoid_zones=frozenset({"neck", "chin", "eyes"}))
    device = open_sim()
    summary = SessionRunner(small_protocol(), device, profile=HOME, options=options).run()
    assert summary.status is SessionStatus.REFUSED
    assert all(c.waveform.amplitude_ua == 50.0 for _, c in device.commands)


def test_a_client_cap_lowers_the_amplitude_and_the_record_says_why(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    screening = Prechecks(screening=lambda ctx: CheckResult.passed(client_max_ua=120.0))
    device = open_sim()
    runner = SessionRunner(small_protocol(), device, profile=HOME, prechecks=screening)
    summary = runner.run()
    assert [s["amplitude_ua"] for s in summary.steps] == [120.0, 120.0, 120.0]
    assert [s["capped_by"] for s in summary.steps] == ["client", "client", "client"]
    assert "comfort" in summary.steps[0]["explanation"]
    assert max(c.commanded_ua for _, c in device.commands) <= 120.0


def test_the_eye_zone_cap_binds_before_the_protocol_request(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    options = SessionOptions(practitioner_max_ua=250.0)
    runner = SessionRunner(small_protocol(), open_sim(), profile=HOME, options=options)
    summary = runner.run()
    assert [s["capped_by"] for s in summary.steps] == ["practitioner", "practitioner", None]
    assert [s["amplitude_ua"] for s in summary.steps] == [250.0, 250.0, 150.0]


def test_a_protocol_that_breaks_the_profile_is_refused_before_anything_runs(
    open_sim: Any,
) -> None:
    with pytest.raises(InvalidValues) as info:
        SessionRunner(load_protocol("pro-lift"), open_sim(), profile=HOME)
    assert "steps" in [e.field for e in info.value.errors]


def test_commands_are_renewed_well_within_their_expiry(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    options = SessionOptions(expires_after_s=0.5)
    summary = SessionRunner(small_protocol(), device, profile=HOME, options=options).run()
    assert summary.status is SessionStatus.COMPLETED
    gaps = [b - a for a, b in zip(device.renewals, device.renewals[1:], strict=False)]
    # a gap longer than a tick only happens while output is off (between repetitions)
    on_gaps = [g for g in gaps if g < 1.0]
    assert max(on_gaps) <= options.expires_after_s / 3


def test_cues_beep_at_the_interval_and_name_side_and_repetition(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    protocol = small_protocol(
        steps=[{"muscle": "masseter", "side": "left", "hold_s": 10.0, "repetitions": 2}]
    )
    events: list[Event] = []
    SessionRunner(protocol, open_sim(), profile=HOME, subscribers=[events.append]).run()
    cues = [e.to_dict() for e in events if e.kind == "cue"]
    assert [c["reason"] for c in cues] == ["side", "move", "repetition", "move"]
    assert [round(b["t_s"] - a["t_s"], 6) for a, b in zip(cues, cues[1:], strict=False)] == [
        5.0
    ] * 3
    assert cues[0]["text"].startswith("Left side, 1 of 2:")


def test_repetitions_ramp_up_and_down_without_steps(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    SessionRunner(small_protocol(), device, profile=HOME).run()
    levels = [c.intensity for _, c in device.commands if c.waveform.amplitude_ua == 300.0]
    steps = [abs(b - a) for a, b in zip(levels, levels[1:], strict=False)]
    # 300 µA at the home slew limit of 400 µA/s ramps over at least 0.75 s: <= 1/15 per 50 ms
    assert max(steps) <= 0.05 / 0.75 + 1e-9
    assert levels.count(1.0) > 0


def test_every_event_is_typed_timed_and_json_able(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    events: list[Event] = []
    SessionRunner(small_protocol(), open_sim(), profile=HOME, subscribers=[events.append]).run()
    times = [e.t_s for e in events]
    assert times == sorted(times)
    kinds = {e.kind for e in events}
    assert {"started", "precheck", "step_started", "cue", "step_completed", "ended"} <= kinds
    for event in events:
        data = json.loads(json.dumps(event.to_dict()))
        assert data["kind"] == event.kind and data["t_s"] == event.t_s


def test_a_custom_profile_shows_as_custom_in_the_events_and_the_summary(
    open_sim: Any, small_protocol: Callable[..., Protocol], tmp_path: Any
) -> None:
    path = tmp_path / "gentle.toml"
    path.write_text('name = "gentle"\n[limits]\nmax_amplitude_ua = 350\n', encoding="utf-8")
    profile = get_profile(str(path))
    events: list[Event] = []
    runner = SessionRunner(
        small_protocol(), open_sim(profile=profile), profile=profile, subscribers=[events.append]
    )
    summary = runner.run()
    started = events[0].to_dict()
    assert started["profile"] == summary.profile == "custom:gentle"
    assert started["profile_hash"] == summary.to_dict()["profile_hash"] == profile.content_hash
