"""Faults injected at device times from a URL: ``fault=contact-loss@2.5&fault=stall@8``.

- ``contact-loss``: a probe lifts off: the load becomes an open circuit.
- ``dry``: the skin dries: the load becomes the ``dry`` preset (its charge carries over).
- ``disconnect``: the link to the output stage is lost: output stops and the device is gone.
- ``stall``: the telemetry path stops; output goes on (only the host's monitor can notice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from microamp.errors import DeviceURLError

__all__ = ["FAULT_KINDS", "FaultKind", "InjectedFault", "parse_injected_faults"]

FaultKind = Literal["contact-loss", "dry", "disconnect", "stall"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True, slots=True, order=True)
class InjectedFault:
    """``kind`` happens at device time ``t_s`` (seconds)."""

    t_s: float
    kind: FaultKind


def parse_injected_faults(values: list[str]) -> list[InjectedFault]:
    """Parse every ``kind@seconds``; raise `DeviceURLError` naming the bad one. Sorted by time."""
    faults = []
    for value in values:
        kind, at, time_text = value.partition("@")
        if kind not in FAULT_KINDS or not at:
            raise DeviceURLError(
                "fault", value, f"must be KIND@SECONDS with KIND one of {', '.join(FAULT_KINDS)}"
            )
        try:
            t_s = float(time_text)
        except ValueError:
            raise DeviceURLError(
                "fault", value, "the time after @ must be a number of seconds"
            ) from None
        if not (math.isfinite(t_s) and t_s >= 0):
            raise DeviceURLError("fault", value, "the time after @ must be at least 0 s")
        faults.append(InjectedFault(t_s, kind))  # type: ignore[arg-type]
    return sorted(faults)
