"""Faults injected at device times from a URL: ``fault=contact-loss@2.5&fault=stall@8``.

- ``contact-loss``: a probe lifts off: that electrode opens, so no current flows (the other
  keeps its charge and discharges through its own skin).
- ``dry``: the skin dries at once: the load becomes the ``dry`` preset (its charge carries over),
  or, with an electrode named, only that interface takes the dry values.
- ``drying``: one interface dries over `DRYING_S`, in `DRYING_STEPS` steps from its own values to
  the dry ones (resistance and Q geometrically, alpha linearly).
- ``disconnect``: the link to the output stage is lost: output stops and the device is gone.
- ``stall``: the telemetry path stops; output goes on (only the host's monitor can notice).

A contact fault may name its electrode, ``KIND:1@SECONDS`` or ``KIND:2@SECONDS``: contact-loss
and drying act on electrode 2 (the moving probe) unless told, dry on both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from microamp.errors import DeviceURLError

__all__ = [
    "DRYING_S",
    "DRYING_STEPS",
    "FAULT_KINDS",
    "FaultKind",
    "InjectedFault",
    "parse_injected_faults",
]

FaultKind = Literal["contact-loss", "dry", "drying", "disconnect", "stall"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
_ELECTRODE_KINDS = ("contact-loss", "dry", "drying")
DRYING_S = 2.0
DRYING_STEPS = 8


@dataclass(frozen=True, slots=True, order=True)
class InjectedFault:
    """``kind`` happens at device time ``t_s`` (seconds).

    ``electrode`` is 0 or 1 (electrodes 1 and 2) or None when the URL named none; ``stage`` is
    how far a drying interface has gone towards dry (1.0 for every other kind).
    """

    t_s: float
    kind: FaultKind
    electrode: int | None = None
    stage: float = 1.0


def parse_injected_faults(values: list[str]) -> list[InjectedFault]:
    """Parse every ``kind@seconds``; raise `DeviceURLError` naming the bad one. Sorted by time."""
    faults: list[InjectedFault] = []
    for value in values:
        head, at, time_text = value.partition("@")
        kind, colon, which = head.partition(":")
        if kind not in FAULT_KINDS or not at:
            raise DeviceURLError(
                "fault",
                value,
                f"must be KIND[:ELECTRODE]@SECONDS with KIND one of {', '.join(FAULT_KINDS)}",
            )
        electrode = _electrode(value, kind, which if colon else None)
        try:
            t_s = float(time_text)
        except ValueError:
            raise DeviceURLError(
                "fault", value, "the time after @ must be a number of seconds"
            ) from None
        if not (math.isfinite(t_s) and t_s >= 0):
            raise DeviceURLError("fault", value, "the time after @ must be at least 0 s")
        faults.extend(_events(t_s, kind, electrode))
    return sorted(faults)


def _electrode(value: str, kind: str, which: str | None) -> int | None:
    """The electrode a contact fault names (0 or 1), None when it names none."""
    if which is None:
        return None
    if kind not in _ELECTRODE_KINDS or which not in ("1", "2"):
        raise DeviceURLError(
            "fault", value, "only contact-loss, dry and drying name an electrode, :1 or :2"
        )
    return int(which) - 1


def _events(t_s: float, kind: str, electrode: int | None) -> list[InjectedFault]:
    if kind != "drying":
        return [InjectedFault(t_s, kind, electrode)]  # type: ignore[arg-type]
    step_s = DRYING_S / DRYING_STEPS
    return [
        InjectedFault(t_s + i * step_s, "drying", electrode, (i + 1) / DRYING_STEPS)
        for i in range(DRYING_STEPS)
    ]
