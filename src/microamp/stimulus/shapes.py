"""The unit waveform: shape x polarity x burst gate, in -1..1, at absolute sample indices.

`ShapeKernel.fill` computes it with NumPy at any indices. When every boundary (period, reversal,
burst cycle) is a whole number of samples and their common cycle is short enough, the kernel also
keeps one cycle as a table, so a block is a slice copy: the per-block cost of a 1 ms block is then
a few hundred nanoseconds instead of dozens of NumPy calls.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from microamp.stimulus.waveform import Waveform

__all__ = ["MAX_TABLE_SAMPLES", "ShapeKernel"]

FloatArray = npt.NDArray[np.float64]

# 4 M samples (32 MB of float64): a 0.1 Hz waveform at 40 kHz with its reversal cycle fits.
MAX_TABLE_SAMPLES = 1 << 22


class ShapeKernel:
    """The unit waveform of ``waveform`` at ``sample_rate_hz``."""

    def __init__(self, waveform: Waveform, sample_rate_hz: float) -> None:
        self.waveform = waveform
        self.sample_rate_hz = sample_rate_hz
        self._allocate(0)
        self.table = self._build_table()

    # -- scratch buffers ---------------------------------------------------------------------

    def _allocate(self, size: int) -> None:
        self._position = np.empty(size)
        self._work = np.empty(size)
        self._sign = np.empty(size)
        self._mask = np.empty(size, dtype=bool)
        self._mask2 = np.empty(size, dtype=bool)

    def _samples(self, seconds: float) -> float:
        """A duration in samples, snapped to a whole number when it is one but for rounding.

        Snapping makes every boundary (period, pulse edge, reversal, burst) fall on the same
        sample in every period, so whole periods are exactly charge-balanced.
        """
        samples = seconds * self.sample_rate_hz
        nearest = round(samples)
        if nearest > 0 and abs(samples - nearest) <= 1e-9 * nearest:
            return float(nearest)
        return samples

    def _cycle_samples(self) -> int | None:
        """The length after which the unit waveform repeats exactly, if whole and short."""
        wf = self.waveform
        spans = [self._samples(wf.period_s)]
        if wf.polarity == "alternating":
            spans.append(2 * self._samples(wf.reversal_s))
        if wf.burst_on_s is not None and wf.burst_off_s:
            spans.append(self._samples(wf.burst_on_s + wf.burst_off_s))
        if any(span != int(span) for span in spans):
            return None
        cycle = math.lcm(*(int(span) for span in spans))
        return cycle if cycle <= MAX_TABLE_SAMPLES else None

    def _build_table(self) -> FloatArray | None:
        cycle = self._cycle_samples()
        if cycle is None:
            return None
        table = np.empty(cycle)
        self.fill(np.arange(cycle, dtype=np.float64), table)
        self._allocate(0)
        return table

    # -- evaluation ---------------------------------------------------------------------------

    def copy_into(self, start_index: int, out: FloatArray) -> bool:
        """Write samples from ``start_index`` by slicing the table; False when there is none."""
        table = self.table
        if table is None:
            return False
        n = out.size
        cycle = table.size
        position = start_index % cycle
        if position + n <= cycle:  # the usual case: one slice
            np.copyto(out, table[position : position + n])
            return True
        done = 0
        while done < n:
            take = min(n - done, cycle - position)
            np.copyto(out[done : done + take], table[position : position + take])
            done += take
            position = 0
        return True

    def fill(self, idx: FloatArray, out: FloatArray) -> None:
        """Write the unit waveform at absolute sample indices ``idx`` into ``out``."""
        n = idx.size
        if self._position.size < n:
            self._allocate(n)
        wf = self.waveform
        period = self._samples(wf.period_s)
        position = self._position[:n]  # samples since the start of the present period
        np.mod(idx, period, out=position)
        if wf.shape == "sine":
            np.multiply(position, 2.0 * math.pi / period, out=out)
            np.sin(out, out=out)
        elif wf.shape == "triangle":
            # 1 - 4 |frac(phase + 1/4) - 1/2|: 0 at the start, +1 at a quarter, -1 at three
            np.multiply(position, 1.0 / period, out=out)
            np.add(out, 0.25, out=out)
            np.subtract(out, np.floor(out, out=self._work[:n]), out=out)
            np.subtract(out, 0.5, out=out)
            np.abs(out, out=out)
            np.multiply(out, -4.0, out=out)
            np.add(out, 1.0, out=out)
        else:
            self._pulses(position, out)
        self._polarity(idx, out)
        self._burst(idx, out)

    def _pulses(self, position: FloatArray, out: FloatArray) -> None:
        wf = self.waveform
        on = self._samples(wf.on_fraction * wf.period_s)
        if wf.polarity == "biphasic":
            half = on / 2.0
            self._trapezoid(position, 0.0, half, out)
            second = self._sign[: position.size]
            self._trapezoid(position, half, half, second)
            np.subtract(out, second, out=out)
        else:
            self._trapezoid(position, 0.0, on, out)

    def _trapezoid(self, position: FloatArray, begin: float, width: float, out: FloatArray) -> None:
        """1 inside [begin, begin + width) samples of the period, with linear edges of rise_s."""
        n = position.size
        inside = self._mask[:n]
        np.greater_equal(position, begin, out=inside)
        np.logical_and(inside, np.less(position, begin + width, out=self._mask2[:n]), out=inside)
        rise = self.waveform.rise_s * self.sample_rate_hz
        # an edge far shorter than a sample is a square edge (and 1 / rise would overflow)
        if self.waveform.shape != "ramped-square" or rise < 1e-6:
            np.copyto(out, inside)
            return
        # distance into the pulse and to its end, over the rise: min(..., 1)
        work = self._work[:n]
        np.subtract(position, begin, out=out)
        np.subtract(begin + width, position, out=work)
        np.minimum(out, work, out=out)
        np.multiply(out, 1.0 / rise, out=out)
        np.clip(out, 0.0, 1.0, out=out)
        np.multiply(out, inside, out=out)

    def _polarity(self, idx: FloatArray, out: FloatArray) -> None:
        polarity = self.waveform.polarity
        if polarity == "negative":
            np.negative(out, out=out)
        elif polarity == "alternating":
            sign = self._sign[: idx.size]
            np.divide(idx, self._samples(self.waveform.reversal_s), out=sign)
            np.floor(sign, out=sign)
            np.mod(sign, 2.0, out=sign)
            np.multiply(sign, -2.0, out=sign)  # 0 -> +1, 1 -> -1
            np.add(sign, 1.0, out=sign)
            np.multiply(out, sign, out=out)

    def _burst(self, idx: FloatArray, out: FloatArray) -> None:
        wf = self.waveform
        if wf.burst_on_s is None or not wf.burst_off_s:
            return
        n = idx.size
        position = self._work[:n]
        np.mod(idx, self._samples(wf.burst_on_s + wf.burst_off_s), out=position)
        gate = self._mask[:n]
        np.less(position, self._samples(wf.burst_on_s), out=gate)
        np.multiply(out, gate, out=out)
