"""The earlier symmetric RC load, kept as the yardstick the constant-phase model is timed against.

microamp's own load (`microamp.devices.load`) replaced it; this copy exists only for `make bench`.

Model (Cole, as in DOMAIN.md): a series resistance ``rs_ohm`` (gel and tissue) in series with two
electrodes, each the stratum corneum as ``rp_ohm`` in parallel with ``cp_nf``. Both electrodes
carry the same current, so with equal electrodes their voltages are equal and the pair acts as
one R = 2 rp parallel C = cp / 2 (time constant rp x cp); ``v`` below is the pair's voltage.

The source forces the commanded current while the voltage it needs, ``u = i rs + v``, stays
within +-compliance; past that it sits at the rail and the current falls to what the rail can
push, ``(+-Vc - v) / rs``. An open circuit (a lifted probe) passes no current at all.

Integration is exact per sample and vectorised per block, never an Euler step:

- within compliance the current is held over each sample (zero-order hold) and
  ``v[n+1] = a v[n] + (1 - a) R i[n]`` with ``a = exp(-dt / (R C))``, solved over a block by a
  scaled cumulative sum in chunks short enough that ``a**-k`` cannot overflow;
- at the rail ``v`` relaxes exponentially towards ``+-Vc R / (R + rs)`` with time constant
  ``C R rs / (R + rs)``, a closed form.

A block is split only where the source enters or leaves compliance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue

__all__ = ["GEL", "LoadModel", "LoadParams", "LoadResult", "hold_response"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Chunks keep a**-k below e**500 (~1e217), far from float64's ~1e308.
_LOG_RANGE = 500.0
# Below this, a sample's memory of the previous one is under float64 resolution of the result.
_A_NEGLIGIBLE = 1e-15


@dataclass(frozen=True, slots=True)
class LoadParams:
    """One load: ohms and nanofarads per electrode; ``open_circuit`` for a probe off the skin."""

    rs_ohm: float
    rp_ohm: float
    cp_nf: float
    open_circuit: bool = False

    def __post_init__(self) -> None:
        for name in ("rs_ohm", "rp_ohm", "cp_nf"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InvalidValue(name, value, "must be a finite number above 0")

    @property
    def dc_ohm(self) -> float:
        """The resistance a steady current meets: rs + 2 rp (inf for an open circuit)."""
        return math.inf if self.open_circuit else self.rs_ohm + 2.0 * self.rp_ohm

    def with_values(self, *, rs_ohm: float, rp_ohm: float, cp_nf: float) -> LoadParams:
        """The same load (open or closed) with new component values."""
        return replace(self, rs_ohm=rs_ohm, rp_ohm=rp_ohm, cp_nf=cp_nf)


GEL = LoadParams(rs_ohm=300.0, rp_ohm=10_000.0, cp_nf=470.0)


class LoadResult(NamedTuple):
    """Per sample: the current that flowed (µA), the output voltage (V), the source at its rail."""

    delivered_ua: FloatArray
    voltage_v: FloatArray
    saturated: BoolArray


def hold_response(v0: float, a: float, drive: FloatArray, out: FloatArray) -> float:
    """Solve ``v[n+1] = a v[n] + drive[n]`` from ``v[0] = v0``.

    Writes the value at the start of each sample into ``out`` (same length as ``drive``) and
    returns the value after the last sample. Exact up to float64 rounding for 0 <= a <= 1.
    """
    n = drive.size
    if n == 0:
        return v0
    if a < _A_NEGLIGIBLE:
        out[0] = v0
        out[1:] = drive[:-1]
        return float(drive[-1])
    chunk = n if a >= 1.0 else max(1, min(n, int(_LOG_RANGE / -math.log(a))))
    powers = a ** np.arange(1, chunk + 1, dtype=np.float64)
    inverse = 1.0 / powers
    v = v0
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        # v[start + j + 1] = a**(j+1) * (v + sum_{k<=j} a**-(k+1) drive[k])
        ends = np.cumsum(drive[start : start + m] * inverse[:m])
        ends += v
        ends *= powers[:m]
        out[start] = v
        out[start + 1 : start + m] = ends[:-1]
        v = float(ends[-1])
    return v


class LoadModel:
    """The load and the source's compliance, stepped block by block at ``sample_rate_hz``.

    ``step`` takes the commanded current (µA) and returns what flowed; the pair's voltage
    carries over between blocks and across a change of `params` (the skin keeps its charge).
    """

    def __init__(self, params: LoadParams, sample_rate_hz: float, compliance_v: float) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise InvalidValue("sample_rate_hz", sample_rate_hz, "must be greater than 0 Hz")
        if not (math.isfinite(compliance_v) and compliance_v > 0):
            raise InvalidValue("compliance_v", compliance_v, "must be greater than 0 V")
        self.sample_rate_hz = float(sample_rate_hz)
        self.compliance_v = float(compliance_v)
        self.v_v = 0.0
        self.params = params
        self.set_params(params)

    def set_params(self, params: LoadParams) -> None:
        """Change the load (skin drying, a probe lifting); the stored charge stays."""
        self.params = params
        dt_s = 1.0 / self.sample_rate_hz
        self._r_ohm = 2.0 * params.rp_ohm
        self._c_f = params.cp_nf * 1e-9 / 2.0
        self._a = math.exp(-dt_s / (self._r_ohm * self._c_f))
        tau_rail_s = self._c_f * self._r_ohm * params.rs_ohm / (self._r_ohm + params.rs_ohm)
        self._b = math.exp(-dt_s / tau_rail_s)

    def step(self, current_ua: FloatArray) -> LoadResult:
        """Drive ``current_ua`` (µA per sample) through the load; return what happened."""
        n = current_ua.size
        delivered = np.empty(n)
        voltage = np.empty(n)
        saturated = np.zeros(n, dtype=bool)
        if self.params.open_circuit:
            self._step_open(current_ua, delivered, voltage, saturated)
        else:
            self._step_closed(current_ua * 1e-6, delivered, voltage, saturated)
        return LoadResult(delivered, voltage, saturated)

    def _step_open(
        self, current_ua: FloatArray, delivered: FloatArray, voltage: FloatArray, rail: BoolArray
    ) -> None:
        # no current flows; the skin discharges through its own resistance
        delivered.fill(0.0)
        n = current_ua.size
        self.v_v = hold_response(self.v_v, self._a, np.zeros(n), voltage)
        np.not_equal(current_ua, 0.0, out=rail)
        np.copyto(voltage, np.sign(current_ua) * self.compliance_v, where=rail)

    def _step_closed(
        self, current_a: FloatArray, delivered: FloatArray, voltage: FloatArray, rail: BoolArray
    ) -> None:
        n = current_a.size
        vc = self.compliance_v
        v_start = np.empty(n)
        pos = 0
        while pos < n:
            drive = current_a[pos:] * ((1.0 - self._a) * self._r_ohm)
            v_end = hold_response(self.v_v, self._a, drive, v_start[pos:])
            need = current_a[pos:] * self.params.rs_ohm + v_start[pos:]
            over = np.abs(need) > vc
            if not over.any():
                delivered[pos:] = current_a[pos:]
                voltage[pos:] = need
                self.v_v = v_end
                break
            k = pos + int(np.argmax(over))
            delivered[pos:k] = current_a[pos:k]
            voltage[pos:k] = need[: k - pos]
            self.v_v = float(v_start[k])
            sign = math.copysign(1.0, float(need[k - pos]))
            pos = self._rail_segment(current_a, k, sign, rail)
            delivered[k:pos] = self._rail_current[: pos - k]
            voltage[k:pos] = sign * vc
        delivered *= 1e6

    def _rail_segment(self, current_a: FloatArray, k: int, sign: float, rail: BoolArray) -> int:
        """Hold the source at ``sign`` x compliance from sample k while it is short; return the end."""
        rs, vc = self.params.rs_ohm, self.compliance_v
        r = self._r_ohm
        v_inf = sign * vc * r / (r + rs)
        steps = np.arange(current_a.size - k + 1, dtype=np.float64)
        v = v_inf + (self.v_v - v_inf) * self._b**steps
        available = (sign * vc - v[:-1]) / rs
        short = sign * current_a[k:] > sign * available
        length = int(np.argmin(short)) if not short.all() else short.size
        length = max(length, 1)
        rail[k : k + length] = True
        self._rail_current = available[:length]
        self.v_v = float(v[length])
        return k + length
