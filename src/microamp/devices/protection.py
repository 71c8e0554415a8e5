"""`ShortfallTrip`: the device-side check that the load still takes the commanded current.

It runs on every sample a sample-level backend produces, the way a stimulator's comparator
watches its sense resistor (FOREO claims a skin check every 2 ms). Only samples where current is
commanded (at least ``min_ua``) are judged: a sample is short when nearly no current flows (a
lost contact) or when the source sits at its compliance rail and delivers too little (a
compliance fault). Samples with no current commanded (the gaps between pulses, a burst's off
time) say nothing about the contact, so they neither excuse nor extend a shortfall.

Output must go to zero when either holds:

- ``trip_samples`` judged samples in a row are short (a steady current or a long pulse), or
- a pulse (a run of commanded samples) ends short: every judged sample of it was short, or its
  last ones carried no current at all (a probe lifted during it). A pulse shorter than the
  debounce that did not flow is seen at the sample after it, not at some later pulse.

So a lift is seen at the first commanded pulse after it, within ``trip_samples`` or one pulse,
whichever is shorter, whatever the duty, frequency or burst pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microamp.safety.faults import FaultCode

__all__ = ["ShortfallTrip", "Trip"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Trip:
    """A trip at block offset ``index``; the offending run began at offset ``onset``.

    ``onset`` is negative when the run began in an earlier block.
    """

    code: FaultCode
    index: int
    onset: int


@dataclass(slots=True)
class _Carry:
    """What a block hands to the next: the open shortfall run and the open pulse."""

    run: int = 0  # short judged samples since the last good one
    run_onset: int = 0  # where that run began, relative to the next block's start
    in_pulse: bool = False  # the last sample was judged
    pulse_all_short: bool = False  # every judged sample of the open pulse was short
    tail_lost: bool = False  # the open pulse's last sample carried (almost) no current
    last_lost: bool = False  # the last short sample carried (almost) no current at all


class ShortfallTrip:
    """Trip on a shortfall of commanded current (see the module docstring)."""

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
        self._carry = _Carry()

    def reset(self) -> None:
        self._carry = _Carry()

    def check(
        self, commanded_ua: FloatArray, delivered_ua: FloatArray, rail: BoolArray
    ) -> Trip | None:
        """The first trip in this block, or None; remembers a run or pulse open at its end."""
        n = commanded_ua.size
        if n == 0:
            return None
        magnitude = np.abs(commanded_ua)
        judged = magnitude >= self.min_ua
        delivered = np.abs(delivered_ua)
        lost = judged & (delivered < self.contact_fraction * magnitude)
        short = judged & rail & (delivered < self.compliance_fraction * magnitude)
        bad = lost | short
        good = judged & ~bad
        positions = np.arange(n)
        carry = self._carry
        # the last good sample at or before each position (-1: none in this block)
        last_good = np.maximum.accumulate(np.where(good, positions, -1))
        bad_count = np.cumsum(bad)
        before_good = np.where(last_good >= 0, bad_count[np.maximum(last_good, 0)], -carry.run)
        run: IntArray = bad_count - before_good
        run_trip = bad & (run >= self.trip_samples)
        pulse_trip, pulse_start = self._pulse_ends(judged, good, lost, positions)
        trips = run_trip | pulse_trip
        if trips.any():
            index = int(np.argmax(trips))
            if run_trip[index]:
                onset = self._run_onset(bad, last_good, index)
                trip = Trip(self._code(lost, bad, index + 1), index, onset)
            else:
                onset = self._run_onset(bad, last_good, index - 1) if index else carry.run_onset
                trip = Trip(self._code(lost, bad, index), index, onset)
            self._carry = _Carry()
            return trip
        self._carry_over(n, bad, lost, judged, good, last_good, run, pulse_start)
        return None

    def _pulse_ends(
        self, judged: BoolArray, good: BoolArray, lost: BoolArray, positions: IntArray
    ) -> tuple[BoolArray, IntArray]:
        """Trips at the sample after a pulse that ended short (see the module docstring).

        Also returns, per position, where the pulse it belongs to began (-1: before this block).
        """
        carry = self._carry
        previous = np.empty_like(judged)
        previous[0] = carry.in_pulse
        previous[1:] = judged[:-1]
        starts = judged & ~previous
        absent = -3  # no pulse open: never equal to a real or carried start
        pulse_start = np.maximum.accumulate(
            np.where(starts, positions, -1 if carry.in_pulse else absent)
        )
        # a carried pulse that already had a good sample counts it at -1, otherwise at -2
        seen_good = np.maximum.accumulate(
            np.where(good, positions, -2 if carry.pulse_all_short else -1)
        )
        all_short = judged & (seen_good < pulse_start)
        ends = previous & ~judged
        trip = np.zeros_like(judged)
        trip[1:] = ends[1:] & (all_short[:-1] | lost[:-1])
        trip[0] = bool(ends[0]) and (carry.pulse_all_short or carry.tail_lost)
        return trip, pulse_start

    def _run_onset(self, bad: BoolArray, last_good: IntArray, index: int) -> int:
        """Where the run of short samples ending at ``index`` began."""
        after = int(last_good[index]) + 1
        if after == 0 and self._carry.run:
            return self._carry.run_onset
        return after + int(np.argmax(bad[after:]))

    def _code(self, lost: BoolArray, bad: BoolArray, end: int) -> FaultCode:
        """Lost contact when the last short sample before ``end`` carried no current."""
        shorts = np.flatnonzero(bad[:end])
        was_lost = bool(lost[shorts[-1]]) if shorts.size else self._carry.last_lost
        return FaultCode.CONTACT_LOST if was_lost else FaultCode.COMPLIANCE

    def _carry_over(
        self,
        n: int,
        bad: BoolArray,
        lost: BoolArray,
        judged: BoolArray,
        good: BoolArray,
        last_good: IntArray,
        run: IntArray,
        pulse_start: IntArray,
    ) -> None:
        old = self._carry
        new = _Carry()
        new.run = int(run[-1])
        if new.run:
            after = int(last_good[-1]) + 1
            if after == 0 and old.run:
                new.run_onset = old.run_onset - n
            else:
                new.run_onset = after + int(np.argmax(bad[after:])) - n
        new.in_pulse = bool(judged[-1])
        if new.in_pulse:
            start = int(pulse_start[-1])
            carried = start == -1
            new.tail_lost = bool(lost[-1])
            first = 0 if carried else start
            had_good = bool(good[first:].any()) or (carried and not old.pulse_all_short)
            new.pulse_all_short = not had_good
        shorts = np.flatnonzero(bad)
        new.last_lost = bool(lost[shorts[-1]]) if shorts.size else old.last_lost
        self._carry = new
