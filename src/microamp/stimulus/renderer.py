"""`Renderer`: a stateful block generator for one `Waveform`.

Every sample is a function of its absolute sample index, never of the block it falls in, so any
partition into blocks renders exactly the same samples as one long block (phase is continuous by
construction). The intensity envelope is one slew-limited level in µA: starting ramps up from
zero, `set_intensity` slews to a new level, `ramp_down` slews to zero; its slope never exceeds
the renderer's `max_slew_ua_s`. All work happens in buffers allocated once, with NumPy ``out=``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue
from microamp.stimulus.waveform import Waveform

__all__ = ["Block", "Envelope", "Renderer", "render_steady"]

FloatArray = npt.NDArray[np.float64]

# An analysis renders into memory: 50 M samples is 400 MB of float64, the most we allow.
MAX_ANALYSIS_SAMPLES = 50_000_000


@dataclass(frozen=True, slots=True)
class Envelope:
    """Ramp times in seconds for the start and the end of output (a full-scale ramp)."""

    ramp_up_s: float = 1.0
    ramp_down_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("ramp_up_s", "ramp_down_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise InvalidValue(name, value, "must be a finite number of seconds, at least 0")


class Block(NamedTuple):
    """One rendered block: views into the renderer's buffers, valid until the next render."""

    samples_ua: FloatArray
    envelope_ua: FloatArray
    start_index: int


@dataclass(slots=True)
class _Slew:
    """One linear slew segment of the envelope level, in absolute sample indices."""

    start_index: int
    start_ua: float
    target_ua: float
    rate_ua_per_sample: float

    def level_at(self, index: int) -> float:
        step = min(
            self.rate_ua_per_sample * (index - self.start_index),
            abs(self.target_ua - self.start_ua),
        )
        return self.start_ua + math.copysign(step, self.target_ua - self.start_ua)


class Renderer:
    """Render a waveform in blocks at ``sample_rate_hz``.

    ``max_slew_ua_s`` bounds how fast the envelope level may move; the ramps of ``envelope`` are
    slowed to respect it. Output starts at zero and ramps up to ``intensity`` x amplitude, unless
    ``start_at_level``. Raises `InvalidValue` for a bad rate, block size, slew or intensity.
    """

    def __init__(
        self,
        waveform: Waveform,
        sample_rate_hz: float,
        *,
        block_size: int = 1024,
        envelope: Envelope | None = None,
        intensity: float = 1.0,
        max_slew_ua_s: float = 1000.0,
        start_at_level: bool = False,
    ) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise InvalidValue("sample_rate_hz", sample_rate_hz, "must be greater than 0 Hz")
        if not (isinstance(block_size, int) and block_size > 0):
            raise InvalidValue("block_size", block_size, "must be a whole number above 0")
        if not (math.isfinite(max_slew_ua_s) and max_slew_ua_s > 0):
            raise InvalidValue("max_slew_ua_s", max_slew_ua_s, "must be greater than 0 µA/s")
        self.sample_rate_hz = float(sample_rate_hz)
        self.block_size = block_size
        self.envelope = envelope or Envelope()
        self.max_slew_ua_s = float(max_slew_ua_s)
        self._waveform = waveform
        self._intensity = self._check_intensity(intensity)
        self._index = 0
        # start_at_level renders the steady waveform from the first sample (for analysis and
        # plots); output to a person always starts from zero and ramps.
        start_ua = self._target_ua() if start_at_level else 0.0
        self._slew = _Slew(0, start_ua, self._target_ua(), self._ramp_rate(self.envelope.ramp_up_s))
        self._allocate(block_size)

    # -- buffers ---------------------------------------------------------------------------

    def _allocate(self, size: int) -> None:
        self._offsets = np.arange(size, dtype=np.float64)
        self._index_buf = np.empty(size)
        self._phase = np.empty(size)
        self._work = np.empty(size)
        self._sign = np.empty(size)
        self._mask = np.empty(size, dtype=bool)
        self._mask2 = np.empty(size, dtype=bool)
        self._envelope = np.empty(size)
        self._out = np.empty(size)

    # -- state -----------------------------------------------------------------------------

    @property
    def waveform(self) -> Waveform:
        return self._waveform

    @property
    def index(self) -> int:
        """The absolute index of the next sample to render."""
        return self._index

    @property
    def time_s(self) -> float:
        return self._index / self.sample_rate_hz

    @property
    def intensity(self) -> float:
        return self._intensity

    @property
    def level_ua(self) -> float:
        """The envelope level at the next sample, in µA."""
        return self._slew.level_at(self._index)

    @property
    def target_ua(self) -> float:
        return self._slew.target_ua

    @property
    def finished(self) -> bool:
        """True once a ramp down has reached zero."""
        return self._slew.target_ua == 0.0 and self.level_ua == 0.0

    @staticmethod
    def _check_intensity(intensity: float) -> float:
        if not (math.isfinite(intensity) and 0.0 <= intensity <= 1.0):
            raise InvalidValue("intensity", intensity, "must be between 0 and 1")
        return float(intensity)

    def _target_ua(self) -> float:
        return self._intensity * self._waveform.amplitude_ua

    def _ramp_rate(self, ramp_s: float) -> float:
        """µA per sample for a full-scale ramp of ``ramp_s``, never above the slew limit."""
        full_scale_ua = max(self._waveform.amplitude_ua, 1e-12)
        rate_ua_s = (
            self.max_slew_ua_s if ramp_s <= 0 else min(self.max_slew_ua_s, full_scale_ua / ramp_s)
        )
        return rate_ua_s / self.sample_rate_hz

    def _retarget(self, target_ua: float, rate_ua_per_sample: float) -> None:
        self._slew = _Slew(self._index, self.level_ua, target_ua, rate_ua_per_sample)

    def set_intensity(self, intensity: float) -> None:
        """Slew to ``intensity`` (0-1) of the amplitude at no more than the slew limit."""
        self._intensity = self._check_intensity(intensity)
        self._retarget(self._target_ua(), self.max_slew_ua_s / self.sample_rate_hz)

    def set_waveform(self, waveform: Waveform) -> None:
        """Change the waveform; the envelope slews from its present level to the new target."""
        self._waveform = waveform
        self._retarget(self._target_ua(), self.max_slew_ua_s / self.sample_rate_hz)

    def ramp_down(self) -> None:
        """Slew to zero over the envelope's ramp-down time (or slower, by the slew limit)."""
        self._retarget(0.0, self._ramp_rate(self.envelope.ramp_down_s))

    def ramp_up(self) -> None:
        """Slew back to the set intensity over the ramp-up time (after a pause, say)."""
        self._retarget(self._target_ua(), self._ramp_rate(self.envelope.ramp_up_s))

    # -- rendering -------------------------------------------------------------------------

    def render(self, n: int | None = None) -> Block:
        """Render the next ``n`` samples (default: one block) in µA."""
        n = self.block_size if n is None else n
        if n > self._offsets.size:
            self._allocate(n)
        start = self._index
        idx = self._index_buf[:n]
        np.add(self._offsets[:n], float(start), out=idx)
        envelope = self._render_envelope(idx)
        out = self._out[:n]
        self._render_unit(idx, out)
        np.multiply(out, envelope, out=out)
        self._index = start + n
        return Block(out, envelope, start)

    def _render_envelope(self, idx: FloatArray) -> FloatArray:
        slew = self._slew
        n = idx.size
        env = self._envelope[:n]
        np.subtract(idx, float(slew.start_index), out=env)
        np.multiply(env, slew.rate_ua_per_sample, out=env)
        np.minimum(env, abs(slew.target_ua - slew.start_ua), out=env)
        if slew.target_ua < slew.start_ua:
            np.negative(env, out=env)
        np.add(env, slew.start_ua, out=env)
        return env

    def _render_unit(self, idx: FloatArray, out: FloatArray) -> None:
        """Write the unit waveform (-1..1) times polarity and burst gate into ``out``."""
        wf = self._waveform
        n = idx.size
        phase = self._phase[:n]
        np.multiply(idx, wf.frequency_hz / self.sample_rate_hz, out=phase)
        np.subtract(phase, np.floor(phase, out=self._work[:n]), out=phase)
        if wf.shape == "sine":
            np.multiply(phase, 2.0 * math.pi, out=out)
            np.sin(out, out=out)
        elif wf.shape == "triangle":
            np.add(phase, 0.25, out=out)
            np.subtract(out, np.floor(out, out=self._work[:n]), out=out)
            np.subtract(out, 0.5, out=out)
            np.abs(out, out=out)
            np.multiply(out, -4.0, out=out)
            np.add(out, 1.0, out=out)
        else:
            self._render_pulses(phase, out)
        self._apply_polarity(idx, out)
        self._apply_burst(idx, out)

    def _render_pulses(self, phase: FloatArray, out: FloatArray) -> None:
        wf = self._waveform
        on = wf.on_fraction
        if wf.polarity == "biphasic":
            half = on / 2.0
            self._trapezoid(phase, 0.0, half, out)
            second = self._sign[: phase.size]
            self._trapezoid(phase, half, half, second)
            np.subtract(out, second, out=out)
        else:
            self._trapezoid(phase, 0.0, on, out)

    def _trapezoid(self, phase: FloatArray, begin: float, width: float, out: FloatArray) -> None:
        """1 inside [begin, begin + width) of the period, with linear edges of rise_s."""
        n = phase.size
        inside = self._mask[:n]
        np.greater_equal(phase, begin, out=inside)
        np.logical_and(inside, np.less(phase, begin + width, out=self._mask2[:n]), out=inside)
        rise_frac = self._waveform.rise_s * self._waveform.frequency_hz
        if self._waveform.shape != "ramped-square" or rise_frac <= 0.0:
            np.copyto(out, inside)
            return
        # distance into the pulse and to its end, in periods, over the rise: min(..., 1)
        work = self._work[:n]
        np.subtract(phase, begin, out=out)
        np.subtract(begin + width, phase, out=work)
        np.minimum(out, work, out=out)
        np.multiply(out, 1.0 / rise_frac, out=out)
        np.clip(out, 0.0, 1.0, out=out)
        np.multiply(out, inside, out=out)

    def _apply_polarity(self, idx: FloatArray, out: FloatArray) -> None:
        polarity = self._waveform.polarity
        if polarity == "negative":
            np.negative(out, out=out)
        elif polarity == "alternating":
            n = idx.size
            sign = self._sign[:n]
            np.multiply(idx, 1.0 / (self.sample_rate_hz * self._waveform.reversal_s), out=sign)
            np.floor(sign, out=sign)
            np.mod(sign, 2.0, out=sign)
            # 0 -> +1, 1 -> -1
            np.multiply(sign, -2.0, out=sign)
            np.add(sign, 1.0, out=sign)
            np.multiply(out, sign, out=out)

    def _apply_burst(self, idx: FloatArray, out: FloatArray) -> None:
        wf = self._waveform
        if wf.burst_on_s is None or wf.burst_off_s is None or wf.burst_off_s == 0.0:
            return
        n = idx.size
        cycle_samples = (wf.burst_on_s + wf.burst_off_s) * self.sample_rate_hz
        position = self._work[:n]
        np.mod(idx, cycle_samples, out=position)
        gate = self._mask[:n]
        np.less(position, wf.burst_on_s * self.sample_rate_hz, out=gate)
        np.multiply(out, gate, out=out)


def render_steady(waveform: Waveform, duration_s: float, sample_rate_hz: float) -> FloatArray:
    """The steady waveform (no ramps) for ``duration_s``: for analysis and plots, not output."""
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise InvalidValue("duration_s", duration_s, "must be greater than 0 s")
    n = int(round(duration_s * sample_rate_hz))
    if n < 1:
        raise InvalidValue("duration_s", duration_s, "must cover at least one sample")
    if n > MAX_ANALYSIS_SAMPLES:
        raise InvalidValue(
            "duration_s",
            duration_s,
            f"duration x sample rate must be at most {MAX_ANALYSIS_SAMPLES:,} samples",
        )
    renderer = Renderer(
        waveform, sample_rate_hz, block_size=min(n, 65536), max_slew_ua_s=1e12, start_at_level=True
    )
    out = np.empty(n)
    for begin in range(0, n, renderer.block_size):
        block = renderer.render(min(renderer.block_size, n - begin))
        out[begin : begin + block.samples_ua.size] = block.samples_ua
    return out
