"""The pieces between the runner's timeline and the device, each held to what it promises:

- `Repetition.level`: a trapezoid that is zero at and outside the repetition's ends, rises and
  falls over its ramp, and holds 1 between (a ramp of 0: a step up and down at the ends);
- a step's ramp: never steeper than the profile's slew limit allows with its margin, never
  more than half the repetition;
- `step_constraint`: the zone's cap, the hardware's and the protocol's each on the step;
- `Output`: no output before its first command; a command carries the step's zone and the
  session's expiry and is never above the step's capped waveform; the same level again is not a
  new command at the device; a ramp down falls at the rate of the step's own ramps;
- `Watch`: no frame before the first; adaptive intensity's adjustment reported with its time,
  step, reason and figures; a device's own fault reported as itself, not as a driver error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from microamp.devices.supervisor import Supervisor, SupervisorUpdate
from microamp.protocols import Protocol, plan_protocol
from microamp.safety import get_profile
from microamp.safety.adaptive import Adjustment
from microamp.safety.constraints import Constraint, Layer
from microamp.safety.faults import Fault, FaultCode
from microamp.session.output import Output
from microamp.session.schedule import Limits, Repetition, build_schedule, step_constraint
from microamp.session.watch import Watch

HOME = get_profile("home")
EXPIRY_S = 0.4


def _steps(small_protocol: Callable[..., Protocol]) -> list[Any]:
    return plan_protocol(small_protocol(), HOME)


@pytest.mark.parametrize(
    ("t_s", "level"),
    [(9.0, 0.0), (10.0, 0.0), (11.0, 0.5), (12.0, 1.0), (13.0, 0.5), (14.0, 0.0), (15.0, 0.0)],
)
def test_a_repetition_is_a_trapezoid_zero_at_its_ends(t_s: float, level: float) -> None:
    repetition = Repetition("right", 1, start_s=10.0, duration_s=4.0, ramp_s=2.0)
    assert repetition.level(t_s) == pytest.approx(level)


@pytest.mark.parametrize(("t_s", "level"), [(9.0, 0.0), (10.0, 0.0), (12.0, 1.0), (14.0, 0.0)])
def test_a_repetition_without_a_ramp_steps_up_inside_its_ends_only(
    t_s: float, level: float
) -> None:
    repetition = Repetition("right", 1, start_s=10.0, duration_s=4.0, ramp_s=0.0)
    assert repetition.level(t_s) == level


def test_a_ramp_asked_for_faster_than_the_slew_limit_is_slowed_to_it_with_its_margin(
    small_protocol: Callable[..., Protocol],
) -> None:
    step = replace(_steps(small_protocol)[0], ramp_s=0.0, repetition_s=60.0)
    (run,) = build_schedule([step], HOME, Limits())
    slew_ua_s = HOME.max_slew_ua_s.value
    # the slowest the device's own slewing allows, 1.25 times slower again
    assert run.repetitions[0].ramp_s == pytest.approx(run.amplitude_ua / slew_ua_s * 1.25)


def test_a_ramp_never_takes_more_than_half_the_repetition(
    small_protocol: Callable[..., Protocol],
) -> None:
    step = replace(_steps(small_protocol)[0], ramp_s=0.0)
    slew_ramp_s = step.requested_ua / HOME.max_slew_ua_s.value * 1.25
    short = replace(step, repetition_s=slew_ramp_s)  # the slew alone would take it whole
    (run,) = build_schedule([short], HOME, Limits())
    assert run.repetitions[0].ramp_s == pytest.approx(slew_ramp_s / 2)


def test_a_steps_constraint_holds_the_zone_the_hardware_and_the_protocol(
    small_protocol: Callable[..., Protocol],
) -> None:
    steps = _steps(small_protocol)
    eyes = next(s for s in steps if s.zone == "eyes")
    eyes_cap = HOME.zone_caps_ua["eyes"].value
    lifted = replace(eyes, waveform=eyes.waveform.with_amplitude(eyes_cap * 2), intensity=1.0)
    alone = step_constraint(lifted, HOME, Limits())
    assert alone.value == pytest.approx(eyes_cap)
    assert alone.binding is not None and alone.binding.layer is Layer.ZONE
    layered = step_constraint(lifted, HOME, Limits(hardware_max_ua=90.0, protocol_max_ua=120.0))
    assert layered.value == 90.0
    limits = {c.layer: c.limit for c in layered.clamps}
    assert limits[Layer.HARDWARE] == 90.0 and limits[Layer.PROTOCOL] == 120.0
    assert limits[Layer.ZONE] == pytest.approx(eyes_cap)
    by_protocol = step_constraint(lifted, HOME, Limits(protocol_max_ua=60.0))
    assert by_protocol.value == 60.0 and by_protocol.binding is not None
    assert by_protocol.binding.layer is Layer.PROTOCOL


def _output(open_sim: Any, intensity: float = 1.0) -> tuple[Output, Any]:
    device = open_sim()
    return Output(Supervisor(device, HOME), HOME, intensity, EXPIRY_S), device


def test_output_is_off_until_its_first_command_which_carries_the_zone_and_the_expiry(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    output, device = _output(open_sim)
    assert output.level == 0.0 and output.command is None and output.limits == Limits()
    runs = build_schedule(_steps(small_protocol), HOME, Limits())
    eyes = next(r for r in runs if r.step.zone == "eyes")
    output.command_level(eyes, 1.7)  # never above the step's capped waveform
    ((_t, sent),) = device.commands
    assert sent.intensity == 1.0 and output.level == 1.0
    assert sent.zone == "eyes" and sent.expires_after_s == EXPIRY_S
    assert sent.client_max_ua is None and sent.practitioner_max_ua is None


def test_the_same_level_again_is_no_new_command_and_a_new_one_changes_the_command(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    output, device = _output(open_sim)
    run = build_schedule(_steps(small_protocol), HOME, Limits())[0]
    output.command_level(run, 0.5)
    output.command_level(run, 0.5)
    assert len(device.commands) == 1
    output.command_level(run, 0.6)
    assert [c.intensity for _t, c in device.commands] == [0.5, 0.6]
    assert device.commands[1][1].zone == run.step.zone


def test_a_ramp_down_falls_at_the_rate_of_the_steps_own_ramps(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    output, _device = _output(open_sim, intensity=0.5)
    run = build_schedule(_steps(small_protocol), HOME, Limits())[0]
    fraction = output.level_on(run).fraction
    assert 0.0 < fraction < 1.0  # the operator's half level, so height and rate differ
    output.command_level(run, fraction / 2)
    output.ramp_down(run, step_s=0.1, ramp_s=2.0)
    # from the step's height (its level, above the half it had fallen to) to zero in 2 s
    assert output.level == pytest.approx(fraction / 2 - 0.1 * fraction / 2.0)


class _Reporting(Supervisor):
    """The real supervisor, its service answering with ``update`` (a device's report)."""

    update = SupervisorUpdate()

    def service(self) -> SupervisorUpdate:
        return self.update


def test_watch_reports_an_adjustment_with_its_time_step_reason_and_figures(
    open_sim: Any,
) -> None:
    supervisor = _Reporting(open_sim(), HOME)
    watch = Watch(supervisor, [])
    assert watch.last_frame is None
    constraint = Constraint("intensity", 1.0).cap(Layer.ADAPTIVE, 0.6, "impedance rose", "test")
    adjustment = Adjustment(t_s=3.0, from_intensity=1.0, to_intensity=0.6,
                            impedance_ohm=40_000.0, constraint=constraint)  # fmt: skip
    supervisor.update = SupervisorUpdate(adjustments=[adjustment], running=True)
    (event,), faults = watch.collect("cheeks", 2, 7.5)
    assert faults == [] and watch.last_frame is None
    assert event.t_s == 7.5 and event.step == 2
    assert event.reason == adjustment.reason and event.reason
    assert event.adjustment == adjustment.to_dict()


def test_a_refusal_is_reported_as_the_devices_own_fault_where_it_saw_one(open_sim: Any) -> None:
    supervisor = _Reporting(open_sim(), HOME)
    watch = Watch(supervisor, [])
    seen = Fault.of(FaultCode.CONTACT_LOST, detected_t_s=1.0)
    supervisor.update = SupervisorUpdate(faults=[seen])
    assert watch.faults_after(RuntimeError("refused"), 1.5) == [seen]
    supervisor.update = SupervisorUpdate()
    (alone,) = watch.faults_after(RuntimeError("refused"), 1.5)
    assert alone.code is FaultCode.DRIVER_ERROR and alone.detail == {"error": "refused"}
