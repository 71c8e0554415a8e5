"""Dose per zone from what the device measured: charge, time, mean current, mean impedance.

Only telemetry counts, never the protocol's plan: the record says what was delivered. A frame
counts toward the zone whose step was commanding output when it was measured; its window counts
as stimulation time (pulse gaps included, as a step's time is). Charge is absolute (µC: a µA for a second); mean current is
charge over stimulation time; mean impedance is weighted by time over frames with a finite
impedance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from microamp.devices.base import TelemetryFrame

__all__ = ["DoseLedger", "ZoneDose"]


@dataclass(frozen=True, slots=True)
class ZoneDose:
    """The dose delivered to one zone. ``mean_impedance_ohm`` is None with nothing measured."""

    zone: str
    charge_uc: float
    stimulation_s: float
    mean_current_ua: float
    mean_impedance_ohm: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "charge_uc": self.charge_uc,
            "stimulation_s": self.stimulation_s,
            "mean_current_ua": self.mean_current_ua,
            "mean_impedance_ohm": self.mean_impedance_ohm,
        }


class _Account:
    __slots__ = ("charge_uc", "impedance_s", "impedance_weighted", "stimulation_s")

    def __init__(self) -> None:
        self.charge_uc = 0.0
        self.stimulation_s = 0.0
        self.impedance_weighted = 0.0
        self.impedance_s = 0.0


class DoseLedger:
    """Sums telemetry frames into per-zone accounts."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._last_t_s: float | None = None

    def _window_s(self, frame: TelemetryFrame) -> float:
        """The frame's window; from the gap to the previous frame where a backend gives none."""
        if frame.window_s > 0:
            return frame.window_s
        previous = self._last_t_s
        return max(0.0, frame.t_s - previous) if previous is not None else 0.0

    def add(self, zone: str | None, frame: TelemetryFrame) -> float:
        """Count ``frame`` toward ``zone``; its charge in µC.

        ``zone`` is None while no output was commanded (paused, between sessions): such frames
        count nowhere, though they still set the time base for the next frame.
        """
        window_s = self._window_s(frame)
        self._last_t_s = frame.t_s
        if zone is None:
            return 0.0
        account = self._accounts.setdefault(zone, _Account())
        charge_uc = max(0.0, frame.delivered_ua) * window_s
        account.charge_uc += charge_uc
        account.stimulation_s += window_s
        if math.isfinite(frame.impedance_ohm) and frame.impedance_ohm > 0:
            account.impedance_weighted += frame.impedance_ohm * window_s
            account.impedance_s += window_s
        return charge_uc

    @property
    def total_charge_uc(self) -> float:
        return sum(a.charge_uc for a in self._accounts.values())

    def zone(self, zone: str) -> ZoneDose:
        account = self._accounts.get(zone, _Account())
        time_s = account.stimulation_s
        return ZoneDose(
            zone=zone,
            charge_uc=account.charge_uc,
            stimulation_s=time_s,
            mean_current_ua=account.charge_uc / time_s if time_s > 0 else 0.0,
            mean_impedance_ohm=(
                account.impedance_weighted / account.impedance_s if account.impedance_s else None
            ),
        )

    def by_zone(self) -> dict[str, ZoneDose]:
        """Every zone that received current, in the order first treated."""
        return {zone: self.zone(zone) for zone in self._accounts}
