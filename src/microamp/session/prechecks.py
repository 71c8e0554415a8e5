"""Prechecks: hooks that must all pass before any current reaches the client.

A hook takes a `PrecheckContext` and returns a `CheckResult`: `CheckResult.passed()` (optionally
with zones to avoid and a client amplitude cap, which screening supplies) or
`CheckResult.refused(reasons)`. A refusal ends the session before any current: the screening and
consent hooks run first, then the device probe, and only then the contact check, which is the
one hook that passes a small test current. Each hook sees only the steps the session will still
treat (the zones to avoid so far are taken out), so the test current goes on a treated zone; a
Stop (or a fault) during the prechecks ends them at once (``stop_requested``): the contact
check's waits are the runner's (``wait``), which such a request cuts short on a clock that can
be woken, so its test current goes to zero then, not at the end of a 50 ms tick.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from microamp.clock import Clock
from microamp.devices.base import Command, Device, TelemetryFrame
from microamp.devices.supervisor import Supervisor
from microamp.errors import DeviceError, InvalidValue
from microamp.protocols.schema import PlannedStep
from microamp.protocols.schema import Protocol as ProtocolFile
from microamp.safety.faults import Fault
from microamp.safety.limits import LimitProfile
from microamp.stimulus.waveform import Waveform

__all__ = [
    "CheckResult",
    "Precheck",
    "PrecheckContext",
    "Prechecks",
    "PrecheckOutcome",
    "STOPPED",
    "check_contact",
    "probe_device",
    "run_prechecks",
]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A precheck's answer. A passing screening may narrow the session (zones, a current cap)."""

    ok: bool
    reasons: tuple[str, ...] = ()
    avoid_zones: frozenset[str] = frozenset()
    client_max_ua: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(
        cls,
        *,
        avoid_zones: Sequence[str] = (),
        client_max_ua: float | None = None,
        detail: dict[str, Any] | None = None,
    ) -> CheckResult:
        return cls(True, (), frozenset(avoid_zones), client_max_ua, detail or {})

    @classmethod
    def refused(cls, reasons: Sequence[str], detail: dict[str, Any] | None = None) -> CheckResult:
        return cls(False, tuple(reasons) or ("refused",), detail=detail or {})


@dataclass(frozen=True, slots=True)
class PrecheckContext:
    """What a hook may look at. Screening and consent hooks must not drive the device; a hook
    that passes current does so through ``supervisor``, which watches it."""

    protocol: ProtocolFile
    steps: tuple[PlannedStep, ...]
    profile: LimitProfile
    device: Device
    supervisor: Supervisor
    clock: Clock
    # a Stop (or a fault) is waiting: a hook ends at once on it
    stop_requested: Callable[[], object] = field(default=lambda: None)
    # let seconds of clock time pass; the runner's wait returns early on a Stop or a fault
    # (the seconds that passed). Without a runner, the clock's plain sleep.
    wait: Callable[[float], float] | None = None

    def sleep(self, seconds: float) -> float:
        """Let ``seconds`` pass (less when a Stop or a fault cut the wait short)."""
        if self.wait is not None:
            return self.wait(seconds)
        self.clock.sleep(seconds)
        return seconds


Precheck = Callable[[PrecheckContext], CheckResult]
STOPPED = "stopped during the prechecks"


def probe_device(ctx: PrecheckContext) -> CheckResult:
    """The device is open, not faulted, and covers every step's frequency."""
    device = ctx.device
    if device.closed:
        return CheckResult.refused(["the device is closed"])
    caps = device.capabilities
    reasons = []
    if device.fault is not None:
        reasons.append(f"the device reports a fault: {device.fault.message}")
    for step in ctx.steps:
        hz = step.waveform.frequency_hz
        if not caps.min_frequency_hz <= hz <= caps.max_frequency_hz:
            reasons.append(
                f"step {step.index + 1} needs {hz:g} Hz; the device covers "
                f"{caps.min_frequency_hz:g}-{caps.max_frequency_hz:g} Hz"
            )
    if reasons:
        return CheckResult.refused(reasons)
    return CheckResult.passed(detail={"capabilities": caps.to_dict()})


# A small test current, as Open-tDCS checks contact with 50 µA before a session.
CONTACT_TEST_UA = 50.0
CONTACT_TEST_S = 1.5
_TEST_WAVEFORM = Waveform(shape="square", amplitude_ua=CONTACT_TEST_UA, frequency_hz=10.0)
_TICK_S = 0.05


def check_contact(ctx: PrecheckContext) -> CheckResult:
    """Pass 50 µA for 1.5 s under the supervisor on the first treated step's zone, look for a
    closed circuit, and refuse skin whose impedance the step's current cannot be driven into.

    Output is zeroed before returning, whatever happens.
    """
    supervisor = ctx.supervisor
    frames: list[TelemetryFrame] = []
    faults: list[Fault] = []
    zone = ctx.steps[0].zone if ctx.steps else None
    try:
        supervisor.apply(Command(_TEST_WAVEFORM, 1.0, expires_after_s=0.5, zone=zone))
        elapsed_s = 0.0
        while elapsed_s < CONTACT_TEST_S and not faults and not ctx.stop_requested():
            elapsed_s += ctx.sleep(_TICK_S)
            if ctx.stop_requested():
                break  # zero now, before another poll of the device
            update = supervisor.service()
            frames += update.frames
            faults += update.faults
        if ctx.stop_requested():
            supervisor.stop()
            return CheckResult.refused([STOPPED])
    except (DeviceError, InvalidValue) as exc:
        return CheckResult.refused([f"the contact check could not run: {exc}"])
    finally:
        supervisor.stop()
    return _judge_contact(ctx, frames, faults[0] if faults else None)


# Headroom between the voltage a step needs (V = I * Z) and the device's compliance voltage:
# skin impedance drifts during a session, and a source at its rail no longer controls current.
COMPLIANCE_MARGIN = 1.25


def _step_peak_ua(ctx: PrecheckContext) -> tuple[int, float]:
    """The step the test current ran on (the first treated one) and its peak after the caps."""
    step = ctx.steps[0]
    cap_ua = min(ctx.profile.zone_cap_ua(step.zone), ctx.device.capabilities.max_current_ua)
    return step.index, min(step.requested_ua, cap_ua)


def _drive_check(ctx: PrecheckContext, impedance_ohm: float) -> tuple[str, dict[str, float]]:
    """ "" if the first treated step's current can be driven into ``impedance_ohm`` within the
    device's compliance voltage with `COMPLIANCE_MARGIN`; else the reason, naming the numbers."""
    if not ctx.steps:
        return "", {}
    index, peak_ua = _step_peak_ua(ctx)
    needed_v = peak_ua * 1e-6 * impedance_ohm
    compliance_v = ctx.device.capabilities.compliance_v
    detail = {"needed_v": needed_v, "compliance_v": compliance_v, "step_peak_ua": peak_ua}
    if needed_v * COMPLIANCE_MARGIN <= compliance_v:
        return "", detail
    reason = (
        f"the skin measures {impedance_ohm / 1000:.0f} kΩ: step {index + 1}'s {peak_ua:g} µA "
        f"would need {needed_v:.0f} V (V = I × Z, {needed_v * COMPLIANCE_MARGIN:.0f} V with "
        f"margin), past the device's {compliance_v:g} V compliance; gel the skin and seat the "
        "probes, then check again"
    )
    return reason, detail


def _judge_contact(
    ctx: PrecheckContext, frames: list[TelemetryFrame], fault: Fault | None
) -> CheckResult:
    charge_uc = sum(f.charge_uc for f in frames)
    if fault is not None:
        return CheckResult.refused([fault.message], detail={"charge_uc": charge_uc})
    live = [f for f in frames[len(frames) // 2 :] if f.commanded_ua > 0]
    if not live:
        return CheckResult.refused(["the device sent no telemetry during the contact check"])
    if any("open_circuit" in f.flags for f in live):
        return CheckResult.refused(["no skin contact: place both probes on gelled skin"])
    impedances = [f.impedance_ohm for f in live if math.isfinite(f.impedance_ohm)]
    detail = {"charge_uc": charge_uc, "frames": len(frames)}
    if not impedances:
        return CheckResult.passed(detail=detail)
    impedance_ohm = sum(impedances) / len(impedances)
    detail["impedance_ohm"] = impedance_ohm
    reason, drive = _drive_check(ctx, impedance_ohm)
    detail.update(drive)
    if reason:
        return CheckResult.refused([reason], detail=detail)
    return CheckResult.passed(detail=detail)


@dataclass(slots=True)
class Prechecks:
    """The hooks, run in this order: screening, consent, device, contact. None skips one."""

    screening: Precheck | None = None
    consent: Precheck | None = None
    device: Precheck | None = probe_device
    contact: Precheck | None = check_contact

    def ordered(self) -> list[tuple[str, Precheck]]:
        hooks = [
            ("screening", self.screening),
            ("consent", self.consent),
            ("device", self.device),
            ("contact", self.contact),
        ]
        return [(name, hook) for name, hook in hooks if hook is not None]


@dataclass(frozen=True, slots=True)
class PrecheckOutcome:
    """Every hook's verdict combined: the zones to avoid and the lowest client cap (µA)."""

    ok: bool
    reasons: tuple[str, ...]
    avoid_zones: frozenset[str]
    client_max_ua: float | None
    log: list[dict[str, Any]]


def run_prechecks(
    hooks: Prechecks,
    context: PrecheckContext,
    on_done: Callable[[str, CheckResult], None],
    zero: Callable[[], None],
    avoid_zones: frozenset[str] = frozenset(),
) -> PrecheckOutcome:
    """Run the hooks in order, stopping at the first refusal or a Stop; ``zero`` runs if a hook
    raises. Each hook sees the steps outside the zones avoided so far (``avoid_zones`` and what
    earlier hooks said); none runs once no step is left."""
    avoid: set[str] = set(avoid_zones)
    caps: list[float] = []
    log: list[dict[str, Any]] = []
    for name, hook in hooks.ordered():
        kept = tuple(s for s in context.steps if s.zone not in avoid)
        if context.stop_requested() or not kept:
            why = STOPPED if context.stop_requested() else _all_avoided(avoid)
            return PrecheckOutcome(False, (why,), frozenset(avoid), None, log)
        try:
            result = hook(replace(context, steps=kept))
        except Exception as exc:  # a broken hook refuses: it cannot vouch for anything
            zero()
            result = CheckResult.refused([f"the {name} check failed: {exc}"])
        log.append(
            {"check": name, "ok": result.ok, "reasons": list(result.reasons), **result.detail}
        )
        on_done(name, result)
        if not result.ok:
            return PrecheckOutcome(False, result.reasons, frozenset(avoid), None, log)
        avoid |= result.avoid_zones
        if result.client_max_ua is not None:
            caps.append(result.client_max_ua)
    return PrecheckOutcome(True, (), frozenset(avoid), min(caps, default=None), log)


def _all_avoided(avoid: set[str]) -> str:
    return f"every step is in a zone to avoid ({', '.join(sorted(avoid))})"
