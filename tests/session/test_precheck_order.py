"""Prechecks follow the decisions before them: the contact test current goes only where the
session will treat, and a Stop pressed during the prechecks is honoured at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microamp.clock import SimulatedClock
from microamp.devices.sim import SimDevice
from microamp.devices.urls import parse_device_url
from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import (
    CheckResult,
    Event,
    PrecheckContext,
    Prechecks,
    SessionOptions,
    SessionRunner,
    SessionStatus,
)
from microamp.session.prechecks import COMPLIANCE_MARGIN

HOME = get_profile("home")


def _avoid_neck(_ctx: PrecheckContext) -> CheckResult:
    return CheckResult.passed(avoid_zones=["neck"])


def test_the_contact_test_runs_on_a_zone_the_session_treats_not_an_avoided_one(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    runner = SessionRunner(small_protocol(), device, profile=HOME,
                           prechecks=Prechecks(screening=_avoid_neck))  # fmt: skip
    runner.start()
    first_zone = device.commands[0][1].zone
    assert first_zone == "chin"
    assert all(command.zone != "neck" for _, command in device.commands)


def test_the_contact_test_skips_zones_the_options_leave_out(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    options = SessionOptions(avoid_zones=frozenset({"neck", "chin"}))
    SessionRunner(small_protocol(), device, profile=HOME, options=options).start()
    assert device.commands[0][1].zone == "eyes"


@pytest.mark.requirement("SAF-SES-03")
def test_no_test_current_flows_when_every_zone_is_avoided(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    options = SessionOptions(avoid_zones=frozenset({"neck", "chin", "eyes"}))
    runner = SessionRunner(small_protocol(), device, profile=HOME, options=options)
    assert runner.start() is False
    assert runner.status is SessionStatus.REFUSED
    assert device.commands == []


class StopAt(SimulatedClock):
    """Simulated time that presses Stop once it passes ``at_s`` (the operator's hand)."""

    def __init__(self, at_s: float) -> None:
        super().__init__()
        self.at_s = at_s
        self.press: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now() >= self.at_s:
            self.press()
            self.press = lambda: None


def test_stop_during_the_contact_check_zeroes_output_at_once(
    small_protocol: Callable[..., Protocol],
) -> None:
    clock = StopAt(0.2)
    device = SimDevice.from_url(parse_device_url("sim://?load=gel"), clock=clock, profile=HOME)
    events: list[Event] = []
    try:
        runner = SessionRunner(small_protocol(), device, profile=HOME, subscribers=[events.append])
        clock.press = runner.stop
        summary = runner.run()
        assert summary.status is SessionStatus.STOPPED
        assert device.command is None
        # the 1.5 s test current did not run its course: one tick after the press, it was off
        assert clock.now() < 0.35
        assert "step_started" not in [e.kind for e in events]
        assert events[-1].to_dict()["reason"] == "stopped during the prechecks by the operator"
    finally:
        device.close()


@pytest.mark.requirement("SAF-PRE-01")
def test_stop_before_the_contact_check_passes_no_test_current(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    runner = SessionRunner(small_protocol(), device, profile=HOME)

    def stop_after_device_probe(event: Event) -> None:
        if event.kind == "precheck" and event.to_dict()["check"] == "device":
            runner.stop()

    runner.subscribe(stop_after_device_probe)
    assert runner.run().status is SessionStatus.STOPPED
    assert device.commands == []


@pytest.mark.requirement("SAF-PRE-03")
def test_the_contact_check_refuses_skin_the_step_current_cannot_be_driven_into(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim("sim://?load=dry")
    runner = SessionRunner(small_protocol(), device, profile=HOME)
    summary = runner.run()
    assert summary.status is SessionStatus.REFUSED
    contact = next(p for p in summary.prechecks if p["check"] == "contact")
    assert not contact["ok"]
    reason = contact["reasons"][0]
    compliance_v = device.capabilities.compliance_v
    assert "kΩ" in reason and "300 µA" in reason and f"{compliance_v:g} V" in reason
    assert contact["impedance_ohm"] * 300e-6 > compliance_v
    assert summary.delivered_charge_uc == 0.0


def test_the_contact_check_passes_gelled_skin_with_the_voltage_it_needs(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim("sim://?load=gel"), profile=HOME)
    runner.start()
    contact = next(p for p in runner.summary().prechecks if p["check"] == "contact")
    assert contact["ok"]
    assert 0 < contact["needed_v"] < runner.device.capabilities.compliance_v


@pytest.mark.requirement("SAF-SES-02")
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stop_s=st.floats(0.0, 9.0),
    pause_s=st.one_of(st.none(), st.floats(0.0, 9.0)),
)
def test_stop_is_honoured_within_a_tick_in_any_state(
    small_protocol: Callable[..., Protocol], stop_s: float, pause_s: float | None
) -> None:
    """Prechecks (0-1.5 s), ramps, holds and pauses: wherever Stop falls, the session ends stopped
    with output at zero by the next tick."""
    clock = StopAt(stop_s)
    device = SimDevice.from_url(parse_device_url("sim://?load=gel&rate_hz=5000"), clock=clock,
                                profile=HOME)  # fmt: skip
    try:
        runner = SessionRunner(small_protocol(), device, profile=HOME)
        clock.press = runner.stop
        if pause_s is not None:
            runner.subscribe(_pause_once_after(runner, pause_s))
        summary = runner.run()
        assert summary.status is SessionStatus.STOPPED
        assert device.command is None
        tick_s = runner.options.tick_s
        assert clock.now() <= max(stop_s, 0.0) + 2 * tick_s + 1e-6
    finally:
        device.close()


def _pause_once_after(runner: SessionRunner, at_s: float) -> Callable[[Event], None]:
    done: list[bool] = []

    def pause(event: Event) -> None:
        if not done and event.t_s >= at_s:
            done.append(True)
            runner.pause()

    return pause


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rp_ohm=st.floats(2_000.0, 600_000.0), amplitude_ua=st.floats(60.0, 400.0))
def test_no_session_starts_on_skin_its_first_step_cannot_be_driven_into(
    small_protocol: Callable[..., Protocol], rp_ohm: float, amplitude_ua: float
) -> None:
    protocol = small_protocol(
        defaults={"hold_s": 5.0, "glide_s": 5.0, "repetitions": 2, "ramp_s": 1.0,
                  "waveform": {"shape": "square", "amplitude_ua": amplitude_ua,
                               "frequency_hz": 10.0}},
    )  # fmt: skip
    url = f"sim://?load=gel&rp_ohm={rp_ohm:.0f}&rate_hz=5000"
    device = SimDevice.from_url(parse_device_url(url), clock=SimulatedClock(), profile=HOME)
    try:
        runner = SessionRunner(protocol, device, profile=HOME)
        started = runner.start()
        contact = next(p for p in runner.summary().prechecks if p["check"] == "contact")
        needed_v = amplitude_ua * 1e-6 * contact["impedance_ohm"]
        compliance_v = device.capabilities.compliance_v
        assert started == (needed_v * COMPLIANCE_MARGIN <= compliance_v)
        if not started:
            assert f"{compliance_v:g} V compliance" in contact["reasons"][0]
    finally:
        device.close()


@pytest.mark.requirement("SAF-PRE-04")
def test_a_session_on_a_closed_device_is_refused_by_the_device_probe(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    device = open_sim()
    device.close()
    runner = SessionRunner(small_protocol(), device, profile=HOME)
    assert runner.start() is False
    assert runner.status is SessionStatus.REFUSED
    assert device.commands == []
    assert runner.summary().to_dict()["reason"] == "the device is closed"
