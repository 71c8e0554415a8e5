"""The prechecks' verdicts, judged one hook at a time on the simulator and on frames made by
hand: each refusal's exact words and numbers, each edge (the device's frequency range, the
compliance voltage with its margin, the zone's cap), what the contact check's test current is and
how long it runs, which frames its verdict reads, and how `run_prechecks` combines the hooks."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from microamp.clock import SimulatedClock
from microamp.devices.base import TelemetryFrame
from microamp.devices.sim import SimDevice
from microamp.devices.supervisor import Supervisor
from microamp.devices.urls import parse_device_url
from microamp.errors import DeviceError
from microamp.protocols import Protocol
from microamp.protocols.validate import plan_protocol
from microamp.safety import get_profile
from microamp.safety.faults import Fault, FaultCode
from microamp.session import CheckResult, PrecheckContext, Prechecks
from microamp.session.prechecks import (
    COMPLIANCE_MARGIN,
    CONTACT_TEST_S,
    CONTACT_TEST_UA,
    STOPPED,
    _drive_check,
    _judge_contact,
    check_contact,
    probe_device,
    run_prechecks,
)

HOME = get_profile("home")
Context = Callable[..., PrecheckContext]


@pytest.fixture
def context(small_protocol: Callable[..., Protocol]) -> Iterator[Context]:
    """A context on a fresh simulator of ``url`` for the small protocol (neck, chin, eyes)."""
    opened: list[SimDevice] = []

    def _make(url: str = "sim://?load=gel", **changes: Any) -> PrecheckContext:
        clock = SimulatedClock()
        device = SimDevice.from_url(parse_device_url(url), clock=clock, profile=HOME)
        assert isinstance(device, SimDevice)
        opened.append(device)
        protocol = small_protocol()
        ctx = PrecheckContext(
            protocol=protocol, steps=tuple(plan_protocol(protocol, HOME)), profile=HOME,
            device=device, supervisor=Supervisor(device, HOME), clock=clock,
        )  # fmt: skip
        return replace(ctx, **changes)

    yield _make
    for device in opened:
        device.close()


def _frame(
    commanded_ua: float = 50.0, impedance_ohm: float = 10_000.0, **more: Any
) -> TelemetryFrame:
    values: dict[str, Any] = {
        "t_s": 0.0, "commanded_ua": commanded_ua, "delivered_ua": commanded_ua,
        "peak_ua": commanded_ua, "voltage_v": 1.0, "impedance_ohm": impedance_ohm,
    }  # fmt: skip
    return TelemetryFrame(**(values | more))


# --- the results


def test_a_refusal_is_not_ok_keeps_its_reasons_and_detail_and_names_itself_when_it_has_none() -> (
    None
):
    refused = CheckResult.refused(["no"], {"seen": 1})
    assert refused.ok is False and refused.reasons == ("no",) and refused.detail == {"seen": 1}
    assert CheckResult.refused([]).reasons == ("refused",)
    assert CheckResult.refused(["no"]).detail == {}
    assert refused.avoid_zones == frozenset() and refused.client_max_ua is None


def test_a_pass_is_ok_with_its_zones_cap_and_detail() -> None:
    passed = CheckResult.passed(avoid_zones=["neck"], client_max_ua=120.0, detail={"a": 1})
    assert passed.ok is True and passed.reasons == ()
    assert passed.avoid_zones == frozenset({"neck"}) and passed.client_max_ua == 120.0
    assert passed.detail == {"a": 1} and CheckResult.passed().detail == {}


def test_a_context_sleeps_on_the_runner_s_wait_or_else_on_its_clock(context: Context) -> None:
    waited: list[float] = []
    woken = context(wait=lambda s: waited.append(s) or s / 2)
    assert woken.sleep(0.05) == 0.025 and waited == [0.05]
    assert woken.clock.now() == 0.0  # the runner's wait, not the clock, let the time pass
    plain = context()
    assert plain.sleep(0.25) == 0.25 and plain.clock.now() == pytest.approx(0.25)


# --- the device probe


def test_the_device_probe_passes_an_open_device_and_reports_its_capabilities(
    context: Context,
) -> None:
    ctx = context()
    result = probe_device(ctx)
    assert result.ok is True and result.detail == {
        "capabilities": ctx.device.capabilities.to_dict()
    }


def test_the_device_probe_refuses_a_closed_device(context: Context) -> None:
    ctx = context()
    ctx.device.close()
    assert probe_device(ctx).reasons == ("the device is closed",)


def test_the_device_probe_names_the_device_s_fault(context: Context) -> None:
    ctx = context()
    ctx.device._fault = Fault.of(FaultCode.CONTACT_LOST)  # as a trip leaves it
    result = probe_device(ctx)
    assert result.ok is False
    assert result.reasons == (f"the device reports a fault: {ctx.device.fault.message}",)


def test_the_device_probe_names_each_step_outside_the_frequency_range_at_its_edges(
    context: Context,
) -> None:
    ctx = context()
    # a device that covers 5-100 Hz only (the simulator covers every frequency a profile allows)
    caps = replace(ctx.device.capabilities, min_frequency_hz=5.0, max_frequency_hz=100.0)
    narrow = SimpleNamespace(closed=False, fault=None, capabilities=caps)

    def at(*hz: float) -> CheckResult:
        tuned = tuple(replace(s, waveform=replace(s.waveform, frequency_hz=f))
                      for s, f in zip(ctx.steps, hz, strict=True))  # fmt: skip
        return probe_device(replace(ctx, device=narrow, steps=tuned))

    assert at(5.0, 100.0, 10.0).ok is True  # both ends are inside
    refused = at(4.9, 10.0, 101.0)
    assert refused.reasons == (
        "step 1 needs 4.9 Hz; the device covers 5-100 Hz",
        "step 3 needs 101 Hz; the device covers 5-100 Hz",
    )


# --- the contact check on the simulator


def test_the_contact_check_passes_50_ua_square_at_10_hz_for_1_5_s_on_the_first_treated_zone(
    context: Context,
) -> None:
    ctx = context()
    applied: list[Any] = []
    supervisor = ctx.supervisor
    original = supervisor.apply
    supervisor.apply = lambda command: applied.append(command) or original(command)  # type: ignore[method-assign]
    result = check_contact(ctx)
    assert result.ok is True, result.reasons
    (command,) = applied
    assert command.waveform.shape == "square" and command.waveform.amplitude_ua == CONTACT_TEST_UA
    assert command.waveform.frequency_hz == 10.0 and command.intensity == 1.0
    assert command.expires_after_s == 0.5 and command.zone == ctx.steps[0].zone == "neck"
    # it ran its whole course in ticks of 50 ms, then output went to zero
    assert ctx.clock.now() == pytest.approx(CONTACT_TEST_S, abs=0.051)
    assert ctx.clock.now() >= CONTACT_TEST_S - 1e-9
    assert ctx.device.command is None
    detail = result.detail
    assert detail["charge_uc"] > 0 and detail["frames"] > 10
    assert 1_000 < detail["impedance_ohm"] < 100_000
    assert detail["compliance_v"] == ctx.device.capabilities.compliance_v
    assert detail["step_peak_ua"] == 300.0
    assert detail["needed_v"] == pytest.approx(300e-6 * detail["impedance_ohm"])


def test_the_contact_check_on_a_lifted_probe_refuses_for_no_contact(context: Context) -> None:
    result = check_contact(context("sim://?load=lifted"))
    assert result.ok is False
    assert result.reasons in (
        ("no skin contact: place both probes on gelled skin",),
        (Fault.of(FaultCode.CONTACT_LOST).message,),
    )


def test_a_stop_already_pressed_passes_no_test_current(context: Context) -> None:
    ctx = context(stop_requested=lambda: True)
    assert check_contact(ctx).reasons == (STOPPED,)
    assert ctx.clock.now() == 0.0 and ctx.device.command is None


def test_a_stop_pressed_during_the_check_ends_it_at_the_next_wait(context: Context) -> None:
    pressed: list[bool] = []
    ctx = context(stop_requested=lambda: bool(pressed))
    ctx = replace(ctx, wait=lambda s: (pressed.append(True), ctx.clock.sleep(s))[1] or s)
    result = check_contact(ctx)
    assert result.reasons == (STOPPED,) and ctx.device.command is None
    assert ctx.clock.now() == pytest.approx(0.05) and len(pressed) == 1


def test_a_device_that_fails_the_check_refuses_it_in_words_and_zeroes_output(
    context: Context,
) -> None:
    ctx = context()

    def broken(_command: Any) -> None:
        raise DeviceError("the port closed")

    ctx.supervisor.apply = broken  # type: ignore[method-assign]
    result = check_contact(ctx)
    assert result.ok is False
    assert result.reasons == ("the contact check could not run: the port closed",)
    assert ctx.device.command is None


# --- driving the step's current into the skin


# 300 µA into 104 kΩ needs 31.2 V, 39 V with the margin
AT_THE_MARGIN_V = 300.0 * 1e-6 * 104_000.0 * COMPLIANCE_MARGIN


@pytest.mark.parametrize(
    ("compliance_v", "ok"), [(40.0, True), (AT_THE_MARGIN_V, True), (38.9, False)]
)
def test_the_drive_check_holds_the_step_s_peak_with_its_margin_under_the_compliance(
    context: Context, compliance_v: float, ok: bool
) -> None:
    ctx = context(f"sim://?load=gel&compliance_v={compliance_v!r}")
    reason, detail = _drive_check(ctx, 104_000.0)
    assert detail == {"needed_v": pytest.approx(31.2), "compliance_v": compliance_v,
                      "step_peak_ua": 300.0}  # fmt: skip
    if ok:
        assert reason == ""
    else:
        assert reason == (
            "the skin measures 104 kΩ: step 1's 300 µA would need 31 V (V = I × Z, 39 V with "
            "margin), past the device's 38.9 V compliance; gel the skin and seat the probes, "
            "then check again"
        )


def test_the_drive_check_takes_the_step_s_current_after_the_zone_cap_and_the_device_s_range(
    context: Context,
) -> None:
    ctx = context("sim://?load=gel&max_ua=250")
    eyes = replace(ctx, steps=ctx.steps[2:])  # the eyes step: 150 µA asked, 200 µA zone cap
    assert _drive_check(eyes, 1_000.0)[1]["step_peak_ua"] == 150.0
    loud = replace(eyes.steps[0], waveform=replace(eyes.steps[0].waveform, amplitude_ua=390.0))
    assert _drive_check(replace(ctx, steps=(loud,)), 1_000.0)[1]["step_peak_ua"] == 200.0
    # the neck's 300 µA under the device's 250 µA maximum
    assert _drive_check(ctx, 1_000.0)[1]["step_peak_ua"] == 250.0
    reason, _ = _drive_check(replace(ctx, steps=ctx.steps[1:]), 200_000.0)
    assert reason.startswith("the skin measures 200 kΩ: step 2's 250 µA would need 50 V")


def test_the_drive_check_with_no_step_left_has_nothing_to_refuse(context: Context) -> None:
    assert _drive_check(context(steps=()), 1e9) == ("", {})


# --- the verdict on what the test current's frames showed


def test_a_fault_refuses_with_its_message_and_the_charge_passed(context: Context) -> None:
    fault = Fault.of(FaultCode.CONTACT_LOST)
    frames = [_frame(window_s=0.01), _frame(window_s=0.01)]
    result = _judge_contact(context(), frames, fault)
    assert result.reasons == (fault.message,)
    assert result.detail == {"charge_uc": pytest.approx(1.0)}  # 50 µA for 20 ms


def test_only_the_second_half_s_frames_with_current_commanded_are_judged(
    context: Context,
) -> None:
    ctx = context()
    opened = _frame(impedance_ohm=math.inf, flags=frozenset({"open_circuit"}))
    # a first half that had not settled yet is not held against the skin
    settled = _judge_contact(ctx, [opened, opened, _frame(50.0, 8_000.0),
                                   _frame(50.0, 12_000.0)], None)  # fmt: skip
    assert settled.ok is True
    assert settled.detail["impedance_ohm"] == pytest.approx(10_000.0)
    assert settled.detail["frames"] == 4
    # an open circuit in the second half refuses
    lifted = _judge_contact(ctx, [_frame(), _frame(), _frame(), opened], None)
    assert lifted.reasons == ("no skin contact: place both probes on gelled skin",)
    # frames with nothing commanded are no telemetry of the test current
    idle = _judge_contact(ctx, [_frame(), _frame(), _frame(0.0), _frame(0.0)], None)
    assert idle.reasons == ("the device sent no telemetry during the contact check",)
    assert _judge_contact(ctx, [], None).reasons == idle.reasons


def test_impedances_that_are_not_numbers_are_left_out_of_the_mean(context: Context) -> None:
    ctx = context()
    mixed = _judge_contact(ctx, [_frame(50.0, math.nan), _frame(50.0, 20_000.0),
                                 _frame(50.0, math.nan)], None)  # fmt: skip
    assert mixed.ok is True and mixed.detail["impedance_ohm"] == 20_000.0
    unmeasured = _judge_contact(ctx, [_frame(50.0, math.nan)] * 4, None)
    assert unmeasured.ok is True
    assert set(unmeasured.detail) == {"charge_uc", "frames"} and unmeasured.detail["frames"] == 4


def test_skin_too_dry_for_the_step_is_refused_with_the_numbers(context: Context) -> None:
    result = _judge_contact(context(), [_frame(50.0, 200_000.0)] * 4, None)
    assert result.ok is False and result.reasons[0].startswith("the skin measures 200 kΩ")
    assert result.detail["impedance_ohm"] == 200_000.0
    assert result.detail["needed_v"] == pytest.approx(60.0)
    assert result.detail["frames"] == 4


# --- the hooks combined


def test_the_hooks_run_in_order_narrowing_the_steps_and_taking_the_lowest_cap(
    context: Context,
) -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []

    def hook(name: str, **passes: Any) -> Callable[[PrecheckContext], CheckResult]:
        def run(ctx: PrecheckContext) -> CheckResult:
            seen.append((name, tuple(s.zone for s in ctx.steps)))
            return CheckResult.passed(**passes)

        return run

    done: list[tuple[str, bool]] = []
    hooks = Prechecks(screening=hook("screening", avoid_zones=["neck"], client_max_ua=200.0),
                      consent=hook("consent", client_max_ua=150.0), device=hook("device"),
                      contact=hook("contact", avoid_zones=["eyes"]))  # fmt: skip
    outcome = run_prechecks(hooks, context(), lambda n, r: done.append((n, r.ok)), lambda: None)
    assert outcome.ok is True and outcome.reasons == ()
    assert seen == [("screening", ("neck", "chin", "eyes")), ("consent", ("chin", "eyes")),
                    ("device", ("chin", "eyes")), ("contact", ("chin", "eyes"))]  # fmt: skip
    assert done == [("screening", True), ("consent", True), ("device", True), ("contact", True)]
    assert outcome.avoid_zones == frozenset({"neck", "eyes"}) and outcome.client_max_ua == 150.0
    assert [entry["check"] for entry in outcome.log] == [
        "screening",
        "consent",
        "device",
        "contact",
    ]
    assert outcome.log[0] == {"check": "screening", "ok": True, "reasons": []}


def test_no_cap_from_any_hook_is_no_cap(context: Context) -> None:
    hooks = Prechecks(device=None, contact=None, screening=lambda _c: CheckResult.passed())
    outcome = run_prechecks(hooks, context(), lambda *_: None, lambda: None)
    assert outcome.ok is True and outcome.client_max_ua is None


def test_a_refusal_ends_the_hooks_with_its_reasons_and_the_zones_so_far(context: Context) -> None:
    later: list[str] = []
    hooks = Prechecks(screening=lambda _c: CheckResult.passed(avoid_zones=["neck"]),
                      consent=lambda _c: CheckResult.refused(["no consent"], {"why": 1}),
                      device=lambda _c: later.append("device") or CheckResult.passed())  # fmt: skip
    outcome = run_prechecks(hooks, context(), lambda *_: None, lambda: None)
    assert outcome.ok is False and outcome.reasons == ("no consent",) and later == []
    assert outcome.avoid_zones == frozenset({"neck"}) and outcome.client_max_ua is None
    assert outcome.log[-1] == {"check": "consent", "ok": False, "reasons": ["no consent"], "why": 1}


def test_a_hook_that_raises_zeroes_output_and_refuses_naming_itself(context: Context) -> None:
    zeroed: list[bool] = []

    def broken(_ctx: PrecheckContext) -> CheckResult:
        raise RuntimeError("the reader broke")

    hooks = Prechecks(screening=broken)
    outcome = run_prechecks(hooks, context(), lambda *_: None, lambda: zeroed.append(True))
    assert zeroed == [True]
    assert outcome.reasons == ("the screening check failed: the reader broke",)


def test_a_stop_before_a_hook_ends_them_as_stopped(context: Context) -> None:
    ran: list[str] = []
    hooks = Prechecks(screening=lambda _c: ran.append("s") or CheckResult.passed(),
                      device=None, contact=None)  # fmt: skip
    outcome = run_prechecks(hooks, context(stop_requested=lambda: True), lambda *_: None,
                            lambda: None)  # fmt: skip
    assert outcome.ok is False and outcome.reasons == (STOPPED,) and ran == []


def test_every_step_avoided_is_said_with_the_zones_in_order(context: Context) -> None:
    # the screening ran (the chin was avoided before it), then nothing was left to check
    outcome = run_prechecks(
        Prechecks(screening=lambda _c: CheckResult.passed(avoid_zones=["neck", "eyes"]),
                  consent=lambda _c: CheckResult.passed(), device=None, contact=None),
        context(), lambda *_: None, lambda: None, avoid_zones=frozenset({"chin"}),
    )  # fmt: skip
    assert outcome.ok is False
    assert outcome.reasons == ("every step is in a zone to avoid (chin, eyes, neck)",)
