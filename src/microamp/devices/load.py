"""The electrode-skin-electrode load, driven by a constant-current source with a compliance voltage.

Model (Cole, as in DOMAIN.md): a series resistance ``rs_ohm`` (gel and tissue) in series with two
electrode-skin interfaces, each its own resistance ``r_ohm`` in parallel with a constant-phase
element ``Q (j w)**alpha`` (`Electrode`), and each with its own contact: ``wet``, ``drying``,
``dry`` (labels for the values it holds) or ``lifted`` (open: no current flows at all).

The CPE is a sum of parallel-RC cells on one fixed grid of time constants, fitted to the closed
form over 10 Hz-10 kHz within 1 % (`microamp.devices.cpe`, which states the method and the
bound). Because both interfaces share the grid, their cells add: cell k of the pair holds the
sum of the two interfaces' cell-k voltages and obeys ``v' = -v / tau_k + i (r1_k + r2_k) / tau_k``
exactly, so a change of one interface (a lift, drying) keeps every cell's charge.

The source forces the commanded current while the voltage it needs, ``u = i rs + sum v_k``,
stays within +-compliance; past that it sits at the rail and the current falls to what the rail
can push, ``(+-Vc - sum v_k) / rs``. Integration is exact per sample and vectorised per block,
never an Euler step:

- within compliance the current is held over each sample (zero-order hold) and each cell obeys
  ``v[n+1] = a v[n] + (1 - a) r i[n]`` with ``a = exp(-dt / tau)``; every cell sees the same
  current, so their summed voltage over a block is one convolution of the current with a kernel
  built once per load (a triangular product for short blocks, an FFT for long ones) and the end
  state one matrix product (`_Cells`);
- at the rail the cells relax together under a constant voltage: ``x' = A x + b u`` with
  ``A = -(D + b 1^T)`` (D the cells' rates, ``b_k = r_k / (tau_k rs)``), symmetric after a
  diagonal scaling, so it is solved in closed form from its eigenvalues.

A block is split only where the source enters or leaves compliance. The voltage and current of a
sample are those at its start: what a constant-current stage measuring at its sampling instants
reports, so the impedance in telemetry is volts over amperes of a real CPE load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from microamp.devices.cpe import TAU_GRID_S, cole_impedance_ohm, fit_cells
from microamp.errors import InvalidValue

__all__ = [
    "LOAD_PRESETS",
    "RESISTOR_LOADS",
    "Contact",
    "Electrode",
    "LoadModel",
    "LoadParams",
    "LoadResult",
    "hold_response",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ComplexArray = npt.NDArray[np.complex128]

Contact = Literal["wet", "drying", "dry", "lifted"]
CONTACTS: tuple[str, ...] = ("wet", "drying", "dry", "lifted")

# Chunks keep a**-k below e**500 (~1e217), far from float64's ~1e308.
_LOG_RANGE = 500.0
# Below this, a sample's memory of the previous one is under float64 resolution of the result.
_A_NEGLIGIBLE = 1e-15
# Blocks up to this many samples use a lower-triangular product, longer ones an FFT.
_DIRECT_SAMPLES = 256
# The rail is solved this many samples ahead at a time.
_RAIL_WINDOW = 256
# The longest block the cells solve at once; longer ones are split.
_PLAN_SAMPLES = 4096
# A cell whose charge fell below this (V) and that no interface drives any more is dropped.
_V_NEGLIGIBLE = 1e-12


def _positive(name: str, value: float, *, zero_ok: bool = False) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value)):
        raise InvalidValue(name, value, "must be a finite number")
    if value < 0 or (value == 0 and not zero_ok):
        rule = "must be at least 0" if zero_ok else "must be a finite number above 0"
        raise InvalidValue(name, value, rule)


@dataclass(frozen=True, slots=True)
class Electrode:
    """One electrode-skin interface: ``r_ohm`` in parallel with a CPE ``q_us`` (µS s**alpha).

    ``r_ohm == 0`` is no interface at all (a lead clipped to a resistor). With ``alpha == 1`` the
    CPE is a capacitor of ``q_us`` microfarads.
    """

    r_ohm: float
    q_us: float = 1.0
    alpha: float = 0.8
    contact: Contact = "wet"

    def __post_init__(self) -> None:
        _positive("r_ohm", self.r_ohm, zero_ok=True)
        _positive("q_us", self.q_us)
        if not (isinstance(self.alpha, int | float) and 0.4 <= self.alpha <= 0.95):
            raise InvalidValue("alpha", self.alpha, "must be a number from 0.4 to 0.95")
        if self.contact not in CONTACTS:
            raise InvalidValue("contact", self.contact, f"must be one of {', '.join(CONTACTS)}")
        if self.r_ohm > 0:
            fit_cells(self.r_ohm, self.q_us * 1e-6, self.alpha)  # refuses a fit past its bound

    @property
    def lifted(self) -> bool:
        return self.contact == "lifted"

    @property
    def cells_ohm(self) -> FloatArray:
        """The interface's cell resistances on `TAU_GRID_S` (all zero without an interface)."""
        return fit_cells(self.r_ohm, self.q_us * 1e-6, self.alpha).r_ohm

    @property
    def fit_error(self) -> float:
        return fit_cells(self.r_ohm, self.q_us * 1e-6, self.alpha).fit_error

    def impedance_ohm(self, freq_hz: FloatArray) -> ComplexArray:
        """The closed form ``R / (1 + R Q (j w)**alpha)``."""
        if self.r_ohm == 0:
            return np.zeros(np.asarray(freq_hz).shape, dtype=np.complex128)
        return cole_impedance_ohm(freq_hz, self.r_ohm, self.q_us * 1e-6, self.alpha)


@dataclass(frozen=True, slots=True)
class LoadParams:
    """One load: a series resistance and the two interfaces (see the module docstring)."""

    rs_ohm: float
    electrodes: tuple[Electrode, Electrode]

    def __post_init__(self) -> None:
        _positive("rs_ohm", self.rs_ohm)
        if len(self.electrodes) != 2:
            raise InvalidValue("electrodes", len(self.electrodes), "a load has two electrodes")

    @classmethod
    def symmetric(
        cls, rs_ohm: float, r_ohm: float, q_us: float, alpha: float, contact: Contact = "wet"
    ) -> LoadParams:
        """Two equal interfaces."""
        electrode = Electrode(r_ohm, q_us, alpha, contact)
        return cls(rs_ohm, (electrode, electrode))

    @classmethod
    def resistor(cls, r_ohm: float) -> LoadParams:
        """A pure resistor between the leads (a test load)."""
        bare = Electrode(0.0, 1.0, 0.8)
        return cls(r_ohm, (bare, bare))

    @property
    def open_circuit(self) -> bool:
        """True when either electrode is off the skin: no current can flow."""
        return any(e.lifted for e in self.electrodes)

    @property
    def dc_ohm(self) -> float:
        """The resistance a steady current meets: rs + r1 + r2 (inf for an open circuit)."""
        if self.open_circuit:
            return math.inf
        return self.rs_ohm + sum(e.r_ohm for e in self.electrodes)

    @property
    def cells_ohm(self) -> FloatArray:
        """Both interfaces' cells added, on `TAU_GRID_S`."""
        return self.electrodes[0].cells_ohm + self.electrodes[1].cells_ohm

    def impedance_ohm(self, freq_hz: FloatArray) -> ComplexArray:
        """The circuit's closed-form impedance ``rs + Z1 + Z2`` (inf when open)."""
        freq = np.asarray(freq_hz, dtype=np.float64)
        if self.open_circuit:
            return np.full(freq.shape, complex(math.inf), dtype=np.complex128)
        z1, z2 = (e.impedance_ohm(freq) for e in self.electrodes)
        total: ComplexArray = self.rs_ohm + z1 + z2
        return total

    def with_electrode(self, which: int, electrode: Electrode) -> LoadParams:
        """The same load with electrode ``which`` (0 or 1) replaced."""
        pair = list(self.electrodes)
        pair[which] = electrode
        return replace(self, electrodes=(pair[0], pair[1]))

    def with_contact(self, which: int, contact: Contact) -> LoadParams:
        return self.with_electrode(which, replace(self.electrodes[which], contact=contact))


def _tau_s(r_ohm: float, q_us: float, alpha: float) -> float:
    return float((r_ohm * q_us * 1e-6) ** (1.0 / alpha))


def _q_us(r_ohm: float, tau_s: float, alpha: float) -> float:
    """The Q (µS s**alpha) that gives an interface of ``r_ohm`` the characteristic time tau."""
    return float(tau_s**alpha / r_ohm * 1e6)


# Rosell et al., IEEE TBME 1988: gelled skin 10 kohm-1 Mohm per cm² at 1 Hz; gels 116-146 ohm of
# their own; stratum corneum tens of nF to about 1 µF per cm², a CPE with alpha 0.5-0.9. Probes
# of about 1 cm²; each interface's characteristic time is that of the earlier RC presets.
_GEL = Electrode(10_000.0, _q_us(10_000.0, 4.7e-3, 0.8), 0.8)
_WET = Electrode(30_000.0, _q_us(30_000.0, 6.6e-3, 0.75), 0.75)
_DRY = Electrode(300_000.0, _q_us(300_000.0, 15e-3, 0.7), 0.7, "dry")
LOAD_PRESETS: dict[str, LoadParams] = {
    "gel": LoadParams(300.0, (_GEL, _GEL)),
    "wet": LoadParams(800.0, (_WET, _WET)),
    "dry": LoadParams(2_000.0, (_DRY, _DRY)),
    # one probe off the skin; the other stays on gelled skin and keeps its charge
    "lifted": LoadParams(300.0, (_GEL, replace(_GEL, contact="lifted"))),
    # the test loads of IEC 60601-2-10 and FDA's special controls, as pure resistors
    "r500": LoadParams.resistor(500.0),
    "r2k": LoadParams.resistor(2_000.0),
    "r10k": LoadParams.resistor(10_000.0),
}
RESISTOR_LOADS = ("r500", "r2k", "r10k")
DRY_ELECTRODE = _DRY


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


class _Cells:
    """The cells' response to a block of held current, every matrix it needs built once.

    All cells see the same current, so their summed voltage over a block is one convolution of
    the current with ``H[m] = sum_k g_k a_k**m`` (``g_k = (1 - a_k) r_k``) plus each cell's own
    decay from its start; the end state is one matrix product. Nothing grows with the number of
    cells but two products, and no power of ``a`` is ever inverted, so nothing can overflow.
    Exact up to float64 rounding, for blocks up to ``samples`` long.
    """

    def __init__(self, log_a: FloatArray, gain: FloatArray, samples: int, rate_hz: float) -> None:
        self.samples = samples
        self.rate_hz = rate_hz
        t = np.arange(samples + 1, dtype=np.float64)
        self.powers = np.exp(np.outer(log_a, t))  # a**t, t = 0..samples
        # gain a**(samples - 1 - j): the weight of sample j in the state after the block
        self.weights = gain[:, None] * self.powers[:, samples - 1 :: -1]
        self.kernel = gain @ self.powers[:, :samples]
        m = min(samples, _DIRECT_SAMPLES)
        # toeplitz[t, j] = kernel[t - 1 - j] below the diagonal, zero on and above it
        padded = np.concatenate([np.zeros(m), self.kernel[: m - 1]])
        windows = np.lib.stride_tricks.sliding_window_view(padded, m)
        self.toeplitz = np.ascontiguousarray(windows[:m, ::-1])
        self._spectra: dict[int, npt.NDArray[np.complex128]] = {}

    def summed(self, v0: FloatArray, current_a: FloatArray) -> FloatArray:
        """The cells' summed voltage at the start of each sample (V)."""
        n = current_a.size
        result: FloatArray = v0 @ self.powers[:, :n]
        if n <= _DIRECT_SAMPLES:
            result += self.toeplitz[:n, :n] @ current_a
        else:
            size = 1 << (2 * n - 1).bit_length()
            spectrum = self._spectra.get(n)
            if spectrum is None:
                spectrum = self._spectra[n] = np.fft.rfft(self.kernel[:n], size)
                if len(self._spectra) > 8:
                    self._spectra.pop(next(iter(self._spectra)))
            full = np.fft.irfft(np.fft.rfft(current_a, size) * spectrum, size)
            result[1:] += full[: n - 1]
        return result

    def state_after(self, v0: FloatArray, current_a: FloatArray) -> FloatArray:
        """Every cell's voltage after ``current_a`` has flowed for its samples."""
        n = current_a.size
        result: FloatArray = (
            self.powers[:, n] * v0 + self.weights[:, self.samples - n :] @ current_a
        )
        return result


class _Rail:
    """The cells under a constant source voltage, in closed form (see the module docstring).

    Cells no interface drives any more (``r == 0``, still charged) only decay, but their voltage
    is in the source's loop: the current is ``(u - every cell's voltage) / rs``, so their
    decaying sum (a sum of exponentials of their own time constants) drives the others too. In
    the driven cells' modes, with rates ``lambda_k`` and weights ``g_k``, an idle cell of
    voltage ``y`` and rate ``mu`` adds ``-g_k y (exp(-mu t) - exp(-lambda_k t)) / (lambda_k - mu)``
    (``-g_k y t exp(-lambda_k t)`` where the two rates meet).
    """

    def __init__(self, rs_ohm: float, r_ohm: FloatArray, tau_s: FloatArray, cells: _Cells) -> None:
        self.rs_ohm = rs_ohm
        self.driven = r_ohm > 0
        self.r_ohm = r_ohm[self.driven]
        self.cells = cells
        b = self.r_ohm / (tau_s[self.driven] * rs_ohm)
        self._sqrt_b = np.sqrt(b)
        symmetric = np.diag(1.0 / tau_s[self.driven]) + np.outer(self._sqrt_b, self._sqrt_b)
        rates, self.modes = np.linalg.eigh(symmetric)
        # the sum of the cells' voltages seen through each mode: 1^T S U
        self._weights = self._sqrt_b @ self.modes
        self._rates = rates
        self._decay_table: FloatArray | None = None
        self._idle_rates = 1.0 / tau_s[~self.driven]

    @property
    def _decay(self) -> FloatArray:
        # built on first use: most loads never meet the rail
        if self._decay_table is None:
            times = np.arange(self.cells.samples + 1, dtype=np.float64) / self.cells.rate_hz
            self._decay_table = np.exp(-np.outer(self._rates, times))
        return self._decay_table

    def relax(self, x0: FloatArray, u_v: float, steps: int) -> tuple[FloatArray, FloatArray]:
        """The cells' summed voltage at samples 0..steps and every cell's state after ``steps``."""
        x_end = np.empty_like(x0)
        summed = np.zeros(steps + 1)
        driven = self.driven
        if driven.any():
            i_inf_a = u_v / (self.rs_ohm + float(self.r_ohm.sum()))
            x_inf = self.r_ohm * i_inf_a
            coeff = self.modes.T @ ((x0[driven] - x_inf) / self._sqrt_b)
            decay = self._decay[:, : steps + 1]
            summed += float(x_inf.sum()) + (self._weights * coeff) @ decay
            x_end[driven] = x_inf + self._sqrt_b * (self.modes @ (coeff * decay[:, -1]))
        idle = ~driven
        if idle.any():
            powers = self.cells.powers[idle, : steps + 1]
            summed += x0[idle] @ powers
            x_end[idle] = x0[idle] * powers[:, -1]
            if driven.any():
                forced = self._idle_forcing(x0[idle], steps)
                summed += self._weights @ forced
                x_end[driven] += self._sqrt_b * (self.modes @ forced[:, -1])
        return summed, x_end

    def _idle_forcing(self, idle_v: FloatArray, steps: int) -> FloatArray:
        """What the idle cells' decay adds to each driven mode at samples 0..steps."""
        t = np.arange(steps + 1, dtype=np.float64) / self.cells.rate_hz
        lam = self._rates[:, None, None]
        mu = self._idle_rates[None, :, None]
        delta = lam - mu
        # (exp(-mu t) - exp(-lam t)) / (lam - mu), each side written so that it does not
        # cancel: exp(-lam t) expm1(delta t) / delta below the idle rate, exp(-mu t)
        # (-expm1(-delta t)) / delta above it, t exp(-lam t) where they meet
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            below = np.exp(-lam * t) * np.expm1(delta * t) / delta
            above = np.exp(-mu * t) * -np.expm1(-delta * t) / delta
        meet = np.abs(delta) * t[-1] < 1e-12
        response = np.where(meet, t * np.exp(-lam * t), np.where(delta < 0, below, above))
        forced: FloatArray = -self._weights[:, None] * np.einsum("m,kmt->kt", idle_v, response)
        return forced


class LoadModel:
    """The load and the source's compliance, stepped block by block at ``sample_rate_hz``.

    ``step`` takes the commanded current (µA) and returns what flowed; the cells' voltages carry
    over between blocks and across a change of `params` (the skin keeps its charge).
    """

    def __init__(self, params: LoadParams, sample_rate_hz: float, compliance_v: float) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise InvalidValue("sample_rate_hz", sample_rate_hz, "must be greater than 0 Hz")
        if not (math.isfinite(compliance_v) and compliance_v > 0):
            raise InvalidValue("compliance_v", compliance_v, "must be greater than 0 V")
        self.sample_rate_hz = float(sample_rate_hz)
        self.compliance_v = float(compliance_v)
        self.dt_s = 1.0 / self.sample_rate_hz
        # every cell of the grid keeps its voltage; only the active ones are stepped
        self.cell_v = np.zeros(TAU_GRID_S.size)
        self.params = params
        self.set_params(params)

    @property
    def v_v(self) -> float:
        """The two interfaces' voltage together (V)."""
        return float(self.cell_v.sum())

    @property
    def state(self) -> FloatArray:
        """A copy of every cell's voltage, to restore with `restore`."""
        return self.cell_v.copy()

    def restore(self, state: FloatArray) -> None:
        self.cell_v[:] = state

    def set_params(self, params: LoadParams) -> None:
        """Change the load (skin drying, a probe lifting); every cell keeps its charge."""
        self.params = params
        cells = params.cells_ohm
        self._active = (cells > 0) | (np.abs(self.cell_v) > _V_NEGLIGIBLE)
        self.cell_v[~self._active] = 0.0
        r = cells[self._active]
        tau = TAU_GRID_S[self._active]
        log_a = -self.dt_s / tau
        self._cells = _Cells(log_a, -np.expm1(log_a) * r, _PLAN_SAMPLES, self.sample_rate_hz)
        self._rail = _Rail(params.rs_ohm, r, tau, self._cells)

    def step(self, current_ua: FloatArray) -> LoadResult:
        """Drive ``current_ua`` (µA per sample) through the load; return what happened."""
        n = current_ua.size
        delivered = np.empty(n)
        voltage = np.empty(n)
        saturated = np.zeros(n, dtype=bool)
        for pos in range(0, n, _PLAN_SAMPLES):
            part = slice(pos, min(n, pos + _PLAN_SAMPLES))
            if self.params.open_circuit:
                self._step_open(current_ua[part], voltage[part], saturated[part])
                delivered[part] = 0.0
            else:
                self._step_closed(
                    current_ua[part] * 1e-6, delivered[part], voltage[part], saturated[part]
                )
        return LoadResult(delivered, voltage, saturated)

    def _step_open(self, current_ua: FloatArray, voltage: FloatArray, rail: BoolArray) -> None:
        # no current flows; each interface discharges through its own resistance
        v0 = self.cell_v[self._active]
        idle = np.zeros(current_ua.size)
        voltage[:] = self._cells.summed(v0, idle)
        self.cell_v[self._active] = self._cells.state_after(v0, idle)
        np.not_equal(current_ua, 0.0, out=rail)
        np.copyto(voltage, np.sign(current_ua) * self.compliance_v, where=rail)

    def _step_closed(
        self, current_a: FloatArray, delivered: FloatArray, voltage: FloatArray, rail: BoolArray
    ) -> None:
        n = current_a.size
        vc = self.compliance_v
        rs = self.params.rs_ohm
        pos = 0
        while pos < n:
            # a window at a time: a block that enters the rail often never solves its whole rest
            end = n if pos == 0 else min(n, pos + _DIRECT_SAMPLES)
            v0 = self.cell_v[self._active]
            need = current_a[pos:end] * rs + self._cells.summed(v0, current_a[pos:end])
            over = np.abs(need) > vc
            if not over.any():
                delivered[pos:end] = current_a[pos:end]
                voltage[pos:end] = need
                self.cell_v[self._active] = self._cells.state_after(v0, current_a[pos:end])
                pos = end
                continue
            k = pos + int(np.argmax(over))
            delivered[pos:k] = current_a[pos:k]
            voltage[pos:k] = need[: k - pos]
            # the state at the start of sample k, then the rail from there
            self.cell_v[self._active] = self._cells.state_after(v0, current_a[pos:k])
            sign = math.copysign(1.0, float(need[k - pos]))
            end = self._rail_segment(current_a, k, sign, rail, delivered)
            voltage[k:end] = sign * vc
            pos = end
        delivered *= 1e6

    def _rail_segment(
        self,
        current_a: FloatArray,
        k: int,
        sign: float,
        rail: BoolArray,
        delivered: FloatArray,
    ) -> int:
        """Hold the source at ``sign`` x compliance from sample k while it is short; return the end."""
        rs, u = self.params.rs_ohm, sign * self.compliance_v
        end = min(current_a.size, k + _RAIL_WINDOW)
        first_window = True
        while True:
            x0 = self.cell_v[self._active]
            summed, _ = self._rail.relax(x0, u, end - k)
            available = (u - summed[:-1]) / rs
            short = sign * current_a[k:end] > sign * available
            length = int(np.argmin(short)) if not short.all() else short.size
            if first_window:
                # the caller found sample k over the compliance: it is at the rail
                length = max(1, length)
            elif length == 0:
                # a later window's first sample the source can push: back to the closed path,
                # as a block cut there would be
                return k
            first_window = False
            rail[k : k + length] = True
            delivered[k : k + length] = available[:length]
            self.cell_v[self._active] = self._rail.relax(x0, u, length)[1]
            if k + length < end or end == current_a.size:
                return k + length
            k, end = end, min(current_a.size, end + _RAIL_WINDOW)
