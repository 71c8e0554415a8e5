"""`ChargeAccount`: the net (DC) charge one device has put through the skin, across commands.

Charge that flows one way and does not come back drives electrochemistry at the electrodes, so
the profile bounds it twice (safety/limits.py):

- ``max_imbalance_uc``: the net charge accumulated since the device was opened, at every sample;
- ``max_mean_dc_ua`` over ``dc_window_s``: the mean current of every interval up to the window's
  length. An interval, not only a window that has already closed: once charge has flowed, output
  may stop at any moment, and a stretch of zeros after it would slide a 10 s window over that
  charge alone. So the rule checked here is that no interval of at most ``dc_window_s`` carries
  more than ``max_mean_dc_ua x dc_window_s``; it implies the 10 s window rule.

The account belongs to the device, not to a command or a guard: re-applying a command, a new
step, a stop and a start all keep it, so no sequence of commands through the Python API can
launder charge. It starts again from zero in two cases only: a newly opened device, and
`start_session` once output has been zero for at least ``MIN_REST_S`` (the probes off the skin
or idle between two sessions, for instance two clients); it refuses before that. Nothing in the
device layer calls `start_session`: whoever starts a session on an open device decides.

For speed the interval rule keeps the charge history as the lowest and highest charge of each
10 ms chunk and checks the intervals that reach back over whole chunks from the start of each
block: the intervals checked are up to one block and one chunk longer than ``dc_window_s`` (at
most 0.2 s more on the sim), a slightly stricter rule, never a looser one.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue
from microamp.safety.limits import LimitProfile

__all__ = ["ChargeAccount"]

FloatArray = npt.NDArray[np.float64]

# The history's resolution (seconds): each chunk keeps only its lowest and highest charge.
CHUNK_S = 0.01
# The rest without output after which a new session may start a fresh account (seconds): a
# product policy (a change of client or of placement takes longer), not a measured relaxation.
MIN_REST_S = 60.0


class ChargeAccount:
    """Net charge (µC) at ``sample_rate_hz``, checked against the profile's two limits."""

    def __init__(
        self,
        sample_rate_hz: float,
        *,
        max_imbalance_uc: float,
        max_mean_dc_ua: float = math.inf,
        dc_window_s: float = 10.0,
    ) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise InvalidValue("sample_rate_hz", sample_rate_hz, "must be greater than 0 Hz")
        for name, value in (
            ("max_imbalance_uc", max_imbalance_uc),
            ("max_mean_dc_ua", max_mean_dc_ua),
        ):
            if not value >= 0:
                raise InvalidValue(name, value, "must be at least 0")
        if not (math.isfinite(dc_window_s) and dc_window_s > 0):
            raise InvalidValue("dc_window_s", dc_window_s, "must be greater than 0 s")
        self.sample_rate_hz = float(sample_rate_hz)
        self.max_imbalance_uc = float(max_imbalance_uc)
        self.max_window_uc = float(max_mean_dc_ua) * dc_window_s
        self.dc_window_s = float(dc_window_s)
        self._chunk = max(1, round(CHUNK_S * sample_rate_hz))
        # whole chunks spanning the window, and one more for the chunk in progress
        slots = math.ceil(dc_window_s * sample_rate_hz / self._chunk) + 1
        # before the device existed nothing flowed: the history starts at zero charge
        self._low = np.zeros(slots)
        self._high = np.zeros(slots)
        self._slot = 0
        self._filled = 0  # samples in the chunk in progress
        # the history's lowest and highest charge, kept while only the chunk in progress grows
        # (None once a chunk is overwritten: recomputed when next asked)
        self._span: tuple[float, float] | None = (0.0, 0.0)
        self._net_uc = 0.0
        self.samples = 0
        self._quiet = 0  # samples since the last one that carried current

    @classmethod
    def from_profile(cls, profile: LimitProfile, sample_rate_hz: float) -> ChargeAccount:
        return cls(
            sample_rate_hz,
            max_imbalance_uc=profile.max_imbalance_uc.value,
            max_mean_dc_ua=profile.max_mean_dc_ua.value,
            dc_window_s=profile.dc_window_s.value,
        )

    def same_terms(self, other: ChargeAccount) -> bool:
        """Whether ``other`` counts at the same rate against the same limits (so one may stand
        for the other)."""
        return (self.sample_rate_hz, self.max_imbalance_uc, self.max_window_uc,
                self.dc_window_s) == (other.sample_rate_hz, other.max_imbalance_uc,
                                      other.max_window_uc, other.dc_window_s)  # fmt: skip

    @property
    def net_uc(self) -> float:
        """Net charge since the device was opened, µC (positive: towards the active probe)."""
        return self._net_uc

    def window_span_uc(self) -> tuple[float, float]:
        """The lowest and highest net charge within the window behind the present sample."""
        if self._span is None:
            self._span = float(self._low.min()), float(self._high.max())
        return self._span

    def admit(self, samples_ua: FloatArray) -> int:
        """Account one block of finite samples; the offset of the first that breaks a limit.

        Returns ``samples_ua.size`` when every sample is within both limits. Samples from the
        returned offset on are accounted as zero: the caller must zero them.
        """
        n = samples_ua.size
        if n == 0:
            return 0
        # the running sum in µA x samples; its extremes scaled to µC cost two scalars, not a pass
        summed = np.cumsum(samples_ua)
        per_sample_uc = 1.0 / self.sample_rate_hz
        block_low = self._net_uc + float(summed.min()) * per_sample_uc
        block_high = self._net_uc + float(summed.max()) * per_sample_uc
        if self._clear(block_low, block_high) and self._inside_chunk(n):
            # the common case: a short block inside the chunk in progress, which only widens
            self._widen(block_low, block_high, self._net_uc + float(summed[-1]) * per_sample_uc, n)
            self._count_quiet(samples_ua, n)
            return n
        charge = summed
        charge *= per_sample_uc
        charge += self._net_uc
        if self._clear(block_low, block_high):
            first = n
            self._record(charge)
        else:
            first = self._first_breach(charge)
            if first < n:
                charge[first:] = charge[first - 1] if first else self._net_uc
            self._record(charge)
        self._count_quiet(samples_ua, first)
        return first

    def _count_quiet(self, samples_ua: FloatArray, first: int) -> None:
        """Samples since the last that carried current (a block ending on current: none)."""
        n = samples_ua.size
        if first == n and samples_ua[-1] != 0.0:
            self._quiet = 0
            return
        carried = np.flatnonzero(samples_ua[:first])
        self._quiet = n - 1 - int(carried[-1]) if carried.size else self._quiet + n

    @property
    def rest_s(self) -> float:
        """How long output has been zero, seconds of device time."""
        return self._quiet / self.sample_rate_hz

    def start_session(self) -> None:
        """Start a fresh account for a new session; `InvalidValue` before a rest of MIN_REST_S."""
        if self.rest_s < MIN_REST_S:
            raise InvalidValue(
                "rest_s",
                round(self.rest_s, 3),
                f"a new session's charge account starts only after {MIN_REST_S:g} s without "
                "output; re-applying a command never resets it",
            )
        self._low.fill(0.0)
        self._high.fill(0.0)
        self._span = (0.0, 0.0)
        self._net_uc = 0.0

    def idle(self, n: int) -> None:
        """Account ``n`` samples without current (output stopped): time passes, charge stays."""
        if n <= 0:
            return
        self._quiet += n
        if n >= self._low.size * self._chunk:
            self._low.fill(self._net_uc)
            self._high.fill(self._net_uc)
            self._span = (self._net_uc, self._net_uc)
            self._filled = 0
            self.samples += n
            return
        self._record(np.full(n, self._net_uc))

    def _clear(self, block_low: float, block_high: float) -> bool:
        """True when no sample of a block whose charge stays within [block_low, block_high] can
        break a limit: a sufficient condition, checked first because it costs two reductions.

        Every interval the exact rule checks ends in the block and starts in the window's
        history or the block, so its charge change lies within the span of both together.
        """
        low, high = self.window_span_uc()
        return (
            max(-block_low, block_high) <= self.max_imbalance_uc
            and max(high, block_high) - min(low, block_low) <= self.max_window_uc
        )

    def _first_breach(self, charge: FloatArray) -> int:
        n = charge.size
        low, high = self.window_span_uc()
        lowest = np.minimum.accumulate(charge)
        np.minimum(lowest, low, out=lowest)
        highest = np.maximum.accumulate(charge)
        np.maximum(highest, high, out=highest)
        bad = np.abs(charge) > self.max_imbalance_uc
        bad |= charge - lowest > self.max_window_uc
        bad |= highest - charge > self.max_window_uc
        return int(np.argmax(bad)) if bad.any() else n

    def _inside_chunk(self, n: int) -> bool:
        """Whether ``n`` more samples stay inside the chunk in progress (none is overwritten)."""
        return 0 < self._filled and self._filled + n < self._chunk

    def _widen(self, low: float, high: float, end_uc: float, n: int) -> None:
        """Fold ``n`` samples whose charge spans [low, high] and ends at ``end_uc`` into the
        chunk in progress (see `_inside_chunk`): its extremes, and the span, only widen."""
        self._low[self._slot] = min(self._low[self._slot], low)
        self._high[self._slot] = max(self._high[self._slot], high)
        if self._span is not None:
            self._span = min(self._span[0], low), max(self._span[1], high)
        self._filled += n
        self._net_uc = end_uc
        self.samples += n

    def _record(self, charge: FloatArray) -> None:
        """Fold a run of charge values into the chunked history."""
        pos, n = 0, charge.size
        chunk, slots = self._chunk, self._low.size
        self._span = None  # a chunk is overwritten below, or a long block folded in
        while pos < n:
            if self._filled == 0:
                self._slot = (self._slot + 1) % slots
                whole = (n - pos) // chunk
                if whole > 1:
                    # several whole chunks at once, each its own slot
                    span = charge[pos : pos + whole * chunk].reshape(whole, chunk)
                    at = (self._slot + np.arange(whole)) % slots
                    self._low[at] = span.min(axis=1)
                    self._high[at] = span.max(axis=1)
                    self._slot = int(at[-1])
                    pos += whole * chunk
                    continue
                self._low[self._slot] = math.inf
                self._high[self._slot] = -math.inf
            take = min(n - pos, chunk - self._filled)
            part = charge[pos : pos + take]
            self._low[self._slot] = min(self._low[self._slot], float(part.min()))
            self._high[self._slot] = max(self._high[self._slot], float(part.max()))
            self._filled = (self._filled + take) % chunk
            pos += take
        self._net_uc = float(charge[-1])
        self.samples += n
