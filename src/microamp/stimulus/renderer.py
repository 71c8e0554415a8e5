"""`Renderer`: a stateful block generator for one `Waveform`.

Every sample is a function of its absolute sample index, never of the block it falls in, so any
partition into blocks renders exactly the same samples as one long block (phase is continuous by
construction). The intensity envelope is one slew-limited level in µA: starting ramps up from
zero, `set_intensity` slews to a new level, `ramp_down` slews to zero; its slope never exceeds
the renderer's `max_slew_ua_s`. All work happens in buffers allocated once, with NumPy ``out=``; the unit waveform comes
from `ShapeKernel` (a slice of a one-cycle table where the waveform allows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue
from microamp.stimulus.shapes import ShapeKernel
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
        self._kernel = ShapeKernel(waveform, self.sample_rate_hz)
        self._allocate(block_size)

    # -- buffers ---------------------------------------------------------------------------

    def _allocate(self, size: int) -> None:
        self._offsets = np.arange(size, dtype=np.float64)
        self._index_buf = np.empty(size)
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
        self._kernel = ShapeKernel(waveform, self.sample_rate_hz)
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
        if n > self._out.size:
            self._allocate(n)
        start = self._index
        out = self._out[:n]
        envelope = self._envelope[:n]
        steady_ua = self._steady_level_ua(start)
        if steady_ua is None:
            idx = self._indices(start, n)
            self._render_envelope(idx, envelope)
        else:
            envelope.fill(steady_ua)
        if not self._kernel.copy_into(start, out):
            self._kernel.fill(self._indices(start, n), out)
        if steady_ua is None:
            np.multiply(out, envelope, out=out)
        else:
            np.multiply(out, steady_ua, out=out)
        self._index = start + n
        return Block(out, envelope, start)

    def _indices(self, start: int, n: int) -> FloatArray:
        idx = self._index_buf[:n]
        np.add(self._offsets[:n], float(start), out=idx)
        return idx

    def _steady_level_ua(self, start: int) -> float | None:
        """The level when the slew has already reached its target at ``start``, else None."""
        slew = self._slew
        if slew.rate_ua_per_sample * (start - slew.start_index) >= abs(
            slew.target_ua - slew.start_ua
        ):
            return slew.target_ua
        return None

    def _render_envelope(self, idx: FloatArray, env: FloatArray) -> None:
        slew = self._slew
        np.subtract(idx, float(slew.start_index), out=env)
        np.multiply(env, slew.rate_ua_per_sample, out=env)
        np.minimum(env, abs(slew.target_ua - slew.start_ua), out=env)
        if slew.target_ua < slew.start_ua:
            np.negative(env, out=env)
        np.add(env, slew.start_ua, out=env)


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
