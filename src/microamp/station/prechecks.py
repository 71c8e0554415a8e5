"""The console's prechecks on the device itself, run by the station that owns it: the device
probe and the contact check (50 µA, 1.5 s) on the first step the session will treat, under the
device's lease (the contact check passes current, so never on a device another session drives),
and each step a limit caps at the chosen level."""

from __future__ import annotations

from typing import Any

from microamp.devices import open_device
from microamp.devices.supervisor import Supervisor
from microamp.protocols import Protocol, plan_protocol
from microamp.safety.limits import get_profile
from microamp.session import PrecheckContext, StepLevel, check_contact, probe_device
from microamp.session.schedule import Limits, build_schedule
from microamp.station.live import session_clock
from microamp.store.db import Store
from microamp.store.lease_keeper import LeaseKeeper
from microamp.store.recording import json_safe

__all__ = ["device_checks", "leased_checks"]


def device_checks(
    protocol: Protocol,
    device_url: str,
    speed: float,
    cap: float | None,
    intensity: float,
    avoid_zones: tuple[str, ...] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Probe the device and run the contact check (50 µA, 1.5 s) on the first step the session
    will treat (never in a zone to avoid); plus each step a limit caps at the chosen level
    (``intensity``, 0-1 of the step's requested current)."""
    profile = get_profile(protocol.audience)
    steps = tuple(s for s in plan_protocol(protocol, profile) if s.zone not in avoid_zones)
    if not steps:
        reason = f"every step is in a zone to avoid ({', '.join(sorted(avoid_zones))})"
        return [{"name": "Zones", "ok": False, "reasons": [reason], "detail": {}}], []
    checks: list[dict[str, Any]] = []
    with open_device(device_url, clock=session_clock(device_url, speed), profile=profile) as device:
        supervisor = Supervisor(device, profile)
        context = PrecheckContext(protocol, steps, profile, device, supervisor, device.clock)
        for name, hook in (("Device", probe_device), ("Skin contact", check_contact)):
            result = hook(context)
            checks.append({"name": name, "ok": result.ok, "reasons": list(result.reasons),
                           "detail": result.detail})  # fmt: skip
            if not result.ok:
                break
        limits = Limits(
            hardware_max_ua=device.capabilities.max_current_ua,
            protocol_max_ua=protocol.max_amplitude_ua,
            practitioner_max_ua=cap,
        )
    levels = [
        StepLevel.of(r, intensity, profile, limits)
        for r in build_schedule(list(steps), profile, limits)
    ]
    capped = [
        {
            "step": at.run.step.index + 1,
            "label": at.run.step.label,
            "requested_ua": at.requested_ua,
            "amplitude_ua": at.run.amplitude_ua,
            "delivered_ua": at.amplitude_ua,
            "reason": at.reason,
        }  # fmt: skip
        for at in levels
        if at.capped_by is not None
    ]
    return checks, capped


def leased_checks(
    store: Store,
    protocol: Protocol,
    device_url: str,
    *,
    speed: float,
    cap: float | None,
    intensity: float,
    avoid_zones: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`device_checks` while holding the device's lease, as a JSON-safe answer (``checks``,
    ``capped``). Raises `DeviceBusy` if a session drives the device."""
    hold = LeaseKeeper.acquire(store, device_url)
    try:
        checks, capped = device_checks(protocol, device_url, speed, cap, intensity, avoid_zones)
    finally:
        hold.release()
    answer: dict[str, Any] = json_safe({"checks": checks, "capped": capped})
    return answer
