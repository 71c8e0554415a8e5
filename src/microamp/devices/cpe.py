"""A constant-phase element in parallel with a resistance, as a sum of RC cells.

One electrode-skin interface is ``R`` in parallel with a CPE of admittance ``Q (j w)**alpha``:

    Z(w) = R / (1 + R Q (j w)**alpha)

A fractional-order element has no finite state, so the model replaces it by a Foster network:
a chain of parallel-RC cells ``r_k || c_k`` in series, ``Z(w) ~ sum r_k / (1 + j w tau_k)``,
whose time constants sit on one fixed grid, three per decade from 0.3 Hz to 300 kHz
(`TAU_GRID_S`, shared by every electrode, so two electrodes in series add cell by cell). The cell
resistances are a non-negative least-squares fit (Lawson-Hanson) of the complex impedance over
the band of interest, 10 Hz to 10 kHz, with the DC resistance held exactly (sum r_k = R). Every
cell is a passive resistor and capacitor, so the network stores and dissipates energy like the
real interface.

How close: `fit_error` is the largest relative error |Z_fit - Z| / |Z| over the band, computed
for each fit on 121 log-spaced frequencies. For alpha from 0.5 to 0.9 and a characteristic time
``(R Q)**(1/alpha)`` from 1 µs to 1 s it is under 0.1 % (the presets: under 0.05 %); alpha up
to 0.95 stays under 0.5 %. A fit past `FIT_BOUND` (1 %: alpha near 1, or a corner far outside
the grid) is refused by `fit_cells`, naming the CPE's Q, rather than simulated wrongly. The tests
check the bound against the closed form for random electrodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue

__all__ = [
    "BAND_HZ",
    "FIT_BOUND",
    "TAU_GRID_S",
    "CellFit",
    "cole_impedance_ohm",
    "fit_cells",
    "nnls",
]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]

BAND_HZ = (10.0, 10_000.0)
FIT_BOUND = 0.01
# three cells a decade from 0.3 Hz to 300 kHz (a decade and a half past each edge of the band),
# then two a decade down to 1 mHz, where a slow interface (large R Q) keeps its DC resistance
_CORNERS_HZ = np.concatenate(
    [np.logspace(-3.0, -1.0, 5), np.logspace(math.log10(0.3), math.log10(3e5), 19)]
)
TAU_GRID_S: FloatArray = 1.0 / (2.0 * math.pi * _CORNERS_HZ)
_FIT_FREQS_HZ: FloatArray = np.logspace(1.0, 4.0, 121)
# the DC row's weight: strong enough to hold sum r_k near R before it is scaled to R exactly
_DC_WEIGHT = 30.0
# cells below this share of R carry nothing measurable and would make the rail's coupling singular
_PRUNE = 1e-9


def cole_impedance_ohm(freq_hz: FloatArray, r_ohm: float, q_s: float, alpha: float) -> ComplexArray:
    """The closed form ``R / (1 + R Q (j w)**alpha)`` at each frequency (Q in S s**alpha)."""
    jw = 1j * 2.0 * math.pi * np.asarray(freq_hz, dtype=np.float64)
    result = np.asarray(r_ohm / (1.0 + r_ohm * q_s * jw**alpha), dtype=np.complex128)
    return result


@dataclass(frozen=True, slots=True)
class CellFit:
    """Cell resistances (ohm) on `TAU_GRID_S` and the fit's largest relative error in the band."""

    r_ohm: FloatArray
    fit_error: float

    def impedance_ohm(self, freq_hz: FloatArray) -> ComplexArray:
        """The network's impedance ``sum r_k / (1 + j w tau_k)``."""
        jw = 1j * 2.0 * math.pi * np.asarray(freq_hz, dtype=np.float64)
        result: ComplexArray = (self.r_ohm[None, :] / (1.0 + jw[:, None] * TAU_GRID_S)).sum(1)
        return result


def nnls(a: FloatArray, b: FloatArray, max_iter: int = 200) -> FloatArray:
    """min ||a x - b|| over x >= 0, by Lawson and Hanson's active-set method."""
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    tolerance = 1e-13 * float(np.abs(a).max(initial=1.0)) * max(a.shape)
    for _ in range(max_iter):
        w = a.T @ (b - a @ x)
        if passive.all() or float(np.max(np.where(passive, -np.inf, w))) <= tolerance:
            break
        passive[int(np.argmax(np.where(passive, -np.inf, w)))] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if np.all(z[passive] > 0):
                x = z
                break
            # step back to the boundary and drop the cells that would go negative
            shrink = passive & (z <= 0)
            step = float(np.min(x[shrink] / (x[shrink] - z[shrink])))
            x = x + step * (z - x)
            passive &= x > tolerance
            x[~passive] = 0.0
    return x


@lru_cache(maxsize=256)
def fit_cells(r_ohm: float, q_s: float, alpha: float) -> CellFit:
    """Fit the Foster cells to ``R || CPE(Q, alpha)`` (see the module docstring).

    Raises `InvalidValue` (field ``q_us``) when the fit misses `FIT_BOUND` anywhere in the band.
    """
    if r_ohm == 0.0:
        none = np.zeros(TAU_GRID_S.size)
        none.setflags(write=False)
        return CellFit(none, 0.0)
    target = cole_impedance_ohm(_FIT_FREQS_HZ, r_ohm, q_s, alpha)
    basis = 1.0 / (1.0 + 1j * 2.0 * math.pi * _FIT_FREQS_HZ[:, None] * TAU_GRID_S[None, :])
    # relative error: each row scaled by the target's magnitude, real and imaginary parts apart
    scale = 1.0 / np.abs(target)
    rows = basis * scale[:, None] * r_ohm
    a = np.vstack([rows.real, rows.imag, np.full((1, TAU_GRID_S.size), _DC_WEIGHT)])
    b = np.concatenate([(target * scale).real, (target * scale).imag, [_DC_WEIGHT]])
    g = nnls(a, b)
    g[g < _PRUNE] = 0.0
    if g.sum() <= 0.0:
        g[-1] = 1.0
    g *= 1.0 / g.sum()
    cells = g * r_ohm
    fit = CellFit(cells, 0.0)
    error = float(np.max(np.abs(fit.impedance_ohm(_FIT_FREQS_HZ) - target) / np.abs(target)))
    if not error <= FIT_BOUND:
        tau_s = (r_ohm * q_s) ** (1.0 / alpha)
        raise InvalidValue(
            "q_us",
            q_s * 1e6,
            f"with R {r_ohm:g} ohm and alpha {alpha:g} the interface's corner "
            f"({tau_s:.3g} s) is beyond what the model fits within 1 % (error {error:.1%})",
        )
    cells.setflags(write=False)
    return CellFit(cells, error)
