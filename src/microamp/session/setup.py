"""From the prechecks to a schedule: which steps run, which are skipped and why, under which limits.

The runner calls `set_up` once, when a session starts; everything after it (ticks, cues, level
changes, faults) works on the `Setup` it returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from microamp.protocols.schema import PlannedStep
from microamp.session.options import SessionOptions
from microamp.session.prechecks import CheckResult, PrecheckContext, Prechecks, run_prechecks
from microamp.session.schedule import Limits, StepRun, build_schedule

__all__ = ["Setup", "set_up"]


@dataclass(frozen=True, slots=True)
class Setup:
    """``refusal`` is empty when the session may run ``runs`` under ``limits``; ``skipped`` holds
    each step left out with its reason; ``log`` every precheck's verdict."""

    refusal: tuple[str, ...]
    runs: list[StepRun] = field(default_factory=list)
    skipped: list[tuple[PlannedStep, str]] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    log: list[dict[str, Any]] = field(default_factory=list)


def set_up(
    context: PrecheckContext,
    prechecks: Prechecks,
    options: SessionOptions,
    on_check: Callable[[str, CheckResult], None],
    zero: Callable[[], None],
) -> Setup:
    """Run the prechecks (``zero`` if a hook raises), then leave out the zones to avoid and cap
    every step by the device, protocol, client and practitioner."""
    outcome = run_prechecks(prechecks, context, on_check, zero, frozenset(options.avoid_zones))
    avoid = set(options.avoid_zones) | outcome.avoid_zones
    skipped = [
        (step, f"the {step.zone} zone is to be avoided for this client")
        for step in context.steps
        if step.zone in avoid
    ]
    kept = [step for step in context.steps if step.zone not in avoid]
    if not outcome.ok:
        # a refusal for having nothing left to treat still says which steps were left out
        return Setup(outcome.reasons, skipped=[] if kept else skipped, log=outcome.log)
    client_max_ua = min(options.client_max_ua or math.inf, outcome.client_max_ua or math.inf)
    limits = Limits(
        hardware_max_ua=context.device.capabilities.max_current_ua,
        protocol_max_ua=context.protocol.max_amplitude_ua,
        client_max_ua=None if math.isinf(client_max_ua) else client_max_ua,
        practitioner_max_ua=options.practitioner_max_ua,
    )
    runs = build_schedule(kept, context.profile, limits)
    return Setup((), runs, skipped, limits, outcome.log)
