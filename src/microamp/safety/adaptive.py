"""Adaptive intensity: within the level a person chose, keep the needed voltage comfortable.

As skin dries or a probe lifts, its impedance rises and a constant-current source must push a
higher voltage, which stings. FOREO's "anti-shock" reads skin resistance and adapts current
within the chosen level; so does this. From each telemetry frame the needed voltage per µA is
``impedance_ohm``; the allowed peak is ``comfort_v / impedance``. Intensity drops at once to what
is allowed (lowering is always safe) and comes back no faster than ``restore_ua_s`` when contact
improves. It never exceeds the chosen intensity: it is one more upper limit, the ``adaptive``
layer, and every change is explained as a `Constraint` clamp.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from microamp.safety.constraints import Constraint, Layer

__all__ = ["AdaptiveIntensity", "Adjustment", "ImpedanceFrame"]


class ImpedanceFrame(Protocol):
    @property
    def t_s(self) -> float: ...
    @property
    def commanded_ua(self) -> float: ...
    @property
    def impedance_ohm(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One change of intensity (0-1) at device time ``t_s``, with its explanation."""

    t_s: float
    from_intensity: float
    to_intensity: float
    impedance_ohm: float
    constraint: Constraint

    @property
    def reason(self) -> str:
        return self.constraint.explain()

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_s": self.t_s,
            "from_intensity": self.from_intensity,
            "to_intensity": self.to_intensity,
            "impedance_ohm": self.impedance_ohm if math.isfinite(self.impedance_ohm) else None,
            "reason": self.reason,
            "constraint": self.constraint.to_dict(),
        }


class AdaptiveIntensity:
    """Lower intensity as impedance rises; restore it slew-limited. Volts, µA, seconds."""

    def __init__(
        self,
        *,
        comfort_v: float = 20.0,
        restore_ua_s: float = 50.0,
        min_judged_ua: float = 20.0,
        min_step: float = 0.01,
    ) -> None:
        self.comfort_v = comfort_v
        self.restore_ua_s = restore_ua_s
        self.min_judged_ua = min_judged_ua
        self.min_step = min_step
        self._cap = 1.0
        # the cap in force at the last adjustment: a slow creep is judged against it, not
        # against the previous frame's cap, so many small steps still add up to an adjustment
        self._applied_cap = 1.0
        self._last_t_s: float | None = None

    @property
    def cap(self) -> float:
        """The adaptive layer's present upper limit on intensity (0-1)."""
        return self._cap

    def reset(self) -> None:
        """Forget the skin (a new placement): the cap returns to 1."""
        self._cap = 1.0
        self._applied_cap = 1.0
        self._last_t_s = None

    def intensity(self, chosen: float) -> float:
        """The intensity to output: the chosen one, never above the adaptive cap."""
        return min(chosen, self._cap)

    def observe(
        self, frames: Iterable[ImpedanceFrame], chosen: float, amplitude_ua: float
    ) -> Adjustment | None:
        """Update from new frames; an `Adjustment` when the output intensity should change."""
        before = min(chosen, self._applied_cap)
        latest: ImpedanceFrame | None = None
        for frame in frames:
            if frame.commanded_ua < self.min_judged_ua or not math.isfinite(frame.impedance_ohm):
                continue
            self._update(frame, amplitude_ua)
            latest = frame
        after = self.intensity(chosen)
        if latest is None or abs(after - before) < self.min_step * max(chosen, 1e-9):
            return None
        self._applied_cap = self._cap
        return Adjustment(
            latest.t_s,
            before,
            after,
            latest.impedance_ohm,
            self._explain(chosen, latest, amplitude_ua),
        )

    def _update(self, frame: ImpedanceFrame, amplitude_ua: float) -> None:
        allowed = self._allowed(frame.impedance_ohm, amplitude_ua)
        dt_s = 0.0 if self._last_t_s is None else max(0.0, frame.t_s - self._last_t_s)
        self._last_t_s = frame.t_s
        if allowed <= self._cap:
            self._cap = allowed
            return
        step = self.restore_ua_s * dt_s / max(amplitude_ua, 1e-9)
        self._cap = min(allowed, self._cap + step)

    def _allowed(self, impedance_ohm: float, amplitude_ua: float) -> float:
        if impedance_ohm <= 0 or amplitude_ua <= 0:
            return 1.0
        allowed_ua = self.comfort_v / impedance_ohm * 1e6
        return max(0.0, min(1.0, allowed_ua / amplitude_ua))

    def _explain(self, chosen: float, frame: ImpedanceFrame, amplitude_ua: float) -> Constraint:
        constraint = Constraint("intensity", chosen)
        needed_v = chosen * amplitude_ua * 1e-6 * frame.impedance_ohm
        constraint.cap(
            Layer.ADAPTIVE,
            self._cap,
            f"skin impedance {frame.impedance_ohm:.0f} ohm needs {needed_v:.1f} V at the chosen "
            f"level; kept under the {self.comfort_v:g} V comfort bound, restored at most "
            f"{self.restore_ua_s:g} µA/s",
            "adaptive intensity (FOREO-style anti-shock)",
        )
        return constraint
