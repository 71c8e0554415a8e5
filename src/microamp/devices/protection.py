"""`ShortfallTrip`: the device-side check that the load still takes the commanded current.

It runs on every sample a sample-level backend produces, the way a stimulator's comparator
watches its sense resistor (FOREO claims a skin check every 2 ms): when the delivered current
stays short of the commanded one for ``trip_samples`` samples in a row, output must go to zero.
Nearly no current at all is a lost contact; a source at its compliance rail that delivers too
little is a compliance fault. Commands below ``min_ua`` are too small to judge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microamp.safety.faults import FaultCode

__all__ = ["ShortfallTrip", "Trip"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Trip:
    """A trip at block offset ``index``; the offending run began ``run`` samples earlier."""

    code: FaultCode
    index: int
    run: int


class ShortfallTrip:
    """Trip after ``trip_samples`` consecutive short samples (see the module docstring)."""

    def __init__(
        self,
        trip_samples: int,
        *,
        min_ua: float = 10.0,
        contact_fraction: float = 0.1,
        compliance_fraction: float = 0.8,
    ) -> None:
        self.trip_samples = max(1, trip_samples)
        self.min_ua = min_ua
        self.contact_fraction = contact_fraction
        self.compliance_fraction = compliance_fraction
        self._carry = 0

    def reset(self) -> None:
        self._carry = 0

    def check(
        self, commanded_ua: FloatArray, delivered_ua: FloatArray, rail: BoolArray
    ) -> Trip | None:
        """The first trip in this block, or None; remembers a run that continues past its end."""
        n = commanded_ua.size
        if n == 0:
            return None
        magnitude = np.abs(commanded_ua)
        judged = magnitude >= self.min_ua
        delivered = np.abs(delivered_ua)
        lost = judged & (delivered < self.contact_fraction * magnitude)
        short = judged & rail & (delivered < self.compliance_fraction * magnitude)
        bad = lost | short
        positions = np.arange(n)
        last_good = np.maximum.accumulate(np.where(bad, -1 - self._carry, positions))
        runs = positions - last_good
        reached = runs >= self.trip_samples
        self._carry = int(n - 1 - last_good[-1])
        if not reached.any():
            return None
        index = int(np.argmax(reached))
        code = FaultCode.CONTACT_LOST if lost[index] else FaultCode.COMPLIANCE
        self._carry = 0
        return Trip(code, index, int(runs[index]) - 1)
