"""What a record says it delivered, derived from its own events.

The runner's ``step_started`` events carry the settings each step ran with (after every limit),
``intensity_adjusted`` the changes made during it, and ``step_completed`` the charge and time
measured per zone. A record built from these needs no other source, so a session cut short
(interrupted) still gets a dose and settings up to its last committed event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["RELEVANT_KINDS", "delivered_from_events", "dose_from_events"]

_STEP_SETTINGS = (
    "step",
    "zone",
    "muscle",
    "side",
    "requested_ua",
    "amplitude_ua",
    "intensity",
    "waveform",
    "constraint",
)
RELEVANT_KINDS = frozenset({"step_started", "intensity_adjusted", "step_completed"})

Events = Iterable[tuple[str, float, Mapping[str, Any]]]


def dose_from_events(events: Events) -> dict[str, dict[str, float]]:
    """Charge (µC) and stimulation time (s) per zone, summed over ``step_completed`` events."""
    dose: dict[str, dict[str, float]] = {}
    for kind, _t_s, data in events:
        zone = data.get("zone")
        if kind != "step_completed" or not isinstance(zone, str):
            continue
        account = dose.setdefault(zone, {"charge_uc": 0.0, "stimulation_s": 0.0})
        account["charge_uc"] += _number(data.get("charge_uc"))
        account["stimulation_s"] += _number(data.get("stimulation_s"))
    return dose


def delivered_from_events(events: Events) -> dict[str, Any]:
    """The settings each step ran with, and every intensity change, in order."""
    steps: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    for kind, t_s, data in events:
        if kind == "step_started":
            steps.append({"t_s": t_s, **{k: data[k] for k in _STEP_SETTINGS if k in data}})
        elif kind == "intensity_adjusted":
            adjustments.append({"t_s": t_s, **dict(data)})
    return {"steps": steps, "adjustments": adjustments} if steps or adjustments else {}


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
