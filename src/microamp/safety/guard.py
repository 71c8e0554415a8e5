"""`OutputGuard`: the last check on every rendered block before it can reach a probe.

It runs inside every driver that produces samples. It clamps rounding-level overshoot and trips
on a peak past its limit, a non-finite sample, a sample outside its commanded envelope, an
envelope that moves faster than the slew limit, or net charge past the profile's limits (the
accumulated imbalance, and the mean DC over its window). Once tripped, every sample from the
first offending one on is exactly zero until `reset`.

Net charge is kept by a `ChargeAccount`. A device passes its own, which outlives every guard it
makes (a new command, a stop and a start keep the charge already delivered); a guard made
without one keeps a private account for its own lifetime. `reset` clears a trip, never charge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue
from microamp.safety.charge import ChargeAccount
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import LimitProfile

__all__ = ["GuardLimits", "OutputGuard"]

FloatArray = npt.NDArray[np.float64]

# Overshoot this small is floating-point rounding: clamp it rather than trip.
CLAMP_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class GuardLimits:
    peak_ua: float
    max_slew_ua_s: float
    max_imbalance_uc: float
    max_mean_dc_ua: float = math.inf
    dc_window_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("peak_ua", "max_slew_ua_s", "max_imbalance_uc"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidValue(name, value, "must be a finite number, at least 0")
        if not self.max_mean_dc_ua >= 0:
            raise InvalidValue("max_mean_dc_ua", self.max_mean_dc_ua, "must be at least 0")
        if not (math.isfinite(self.dc_window_s) and self.dc_window_s > 0):
            raise InvalidValue("dc_window_s", self.dc_window_s, "must be greater than 0 s")

    @classmethod
    def from_profile(cls, profile: LimitProfile, *, peak_ua: float | None = None) -> GuardLimits:
        """The profile's limits; ``peak_ua`` may only lower the peak (a zone or hardware cap)."""
        peak = profile.max_amplitude_ua.value
        if peak_ua is not None:
            peak = min(peak, peak_ua)
        return cls(
            peak_ua=peak,
            max_slew_ua_s=profile.max_slew_ua_s.value,
            max_imbalance_uc=profile.max_imbalance_uc.value,
            max_mean_dc_ua=profile.max_mean_dc_ua.value,
            dc_window_s=profile.dc_window_s.value,
        )


class OutputGuard:
    """Check blocks of samples (µA) in place at ``sample_rate_hz``."""

    def __init__(
        self, limits: GuardLimits, sample_rate_hz: float, account: ChargeAccount | None = None
    ) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise InvalidValue("sample_rate_hz", sample_rate_hz, "must be greater than 0 Hz")
        if account is not None and account.sample_rate_hz != float(sample_rate_hz):
            raise InvalidValue(
                "account", account.sample_rate_hz, f"must count samples at {sample_rate_hz:g} Hz"
            )
        self.limits = limits
        self.sample_rate_hz = float(sample_rate_hz)
        self.account = account or ChargeAccount(
            sample_rate_hz,
            max_imbalance_uc=limits.max_imbalance_uc,
            max_mean_dc_ua=limits.max_mean_dc_ua,
            dc_window_s=limits.dc_window_s,
        )
        self.clamped_samples = 0
        self._index = 0
        self._fault: Fault | None = None
        self._last_envelope_ua = 0.0
        self._allocate(0)

    def _allocate(self, size: int) -> None:
        self._buf = np.empty(size)
        self._buf2 = np.empty(size)
        self._bad = np.empty(size, dtype=bool)

    @property
    def tripped(self) -> bool:
        return self._fault is not None

    @property
    def fault(self) -> Fault | None:
        return self._fault

    @property
    def net_charge_uc(self) -> float:
        """Net charge let through, µC, on the account this guard charges."""
        return self.account.net_uc

    def reset(self) -> None:
        """Clear a trip: output may start again, from zero. The charge account stays."""
        self._fault = None
        self._last_envelope_ua = 0.0
        self.clamped_samples = 0

    def set_limits(self, limits: GuardLimits) -> None:
        self.limits = limits

    def process(self, samples_ua: FloatArray, envelope_ua: FloatArray) -> FloatArray:
        """Check one block in place and return it; zero from the first offending sample."""
        n = samples_ua.size
        start = self._index
        self._index += n
        if self._fault is not None:
            samples_ua.fill(0.0)
            return samples_ua
        if envelope_ua.size != n:
            raise InvalidValue("envelope_ua", envelope_ua.size, f"must have {n} samples")
        if self._buf.size < n:
            self._allocate(n)
        # hostile input (inf - inf, overflow) must neither warn nor raise: it trips
        with np.errstate(invalid="ignore", over="ignore"):
            clean = self._clean(samples_ua, envelope_ua)
        if clean:
            self._charge(samples_ua, n, start)
            if self._fault is None:
                self._last_envelope_ua = float(envelope_ua[-1]) if n else self._last_envelope_ua
            return samples_ua
        first = n
        code = FaultCode.NON_FINITE
        # hostile input (inf - inf, overflow) must neither warn nor raise: it trips
        with np.errstate(invalid="ignore", over="ignore"):
            violations = self._violations(samples_ua, envelope_ua)
        value = 0.0
        for candidate, index, found_ua in violations:
            if index < first:
                first, code, value = index, candidate, found_ua
        if first < n:
            samples_ua[first:] = 0.0
        # what is left is finite: account it, and trip first if the charge broke a limit earlier
        if self._charge(samples_ua, first, start):
            return samples_ua
        if first < n:
            self._trip(code, start + first, value)
        else:
            self._last_envelope_ua = float(envelope_ua[-1]) if n else self._last_envelope_ua
        return samples_ua

    def _charge(self, samples_ua: FloatArray, end: int, start: int) -> bool:
        """Account the block (zero past ``end``); trip and zero on a charge limit before it."""
        breach = self.account.admit(samples_ua)
        if breach >= min(end, samples_ua.size):
            return False
        value = float(samples_ua[breach])
        samples_ua[breach:] = 0.0
        self._trip(FaultCode.CHARGE_IMBALANCE, start + breach, value)
        return True

    def _clean(self, x: FloatArray, env: FloatArray) -> bool:
        """A fast, conservative pass: True only if no sample breaks or even touches a limit.

        Anything else (a clamp, a trip) takes the exact path, which finds the first offending
        sample; charge is checked on both paths, by the account. Comparisons are written
        ``not (a <= b)`` so a NaN anywhere (it spreads through the sums) fails the pass.
        """
        n = x.size
        if n == 0:
            return True
        bad = self._bad[:n]
        mag = np.abs(x, out=self._buf[:n])
        np.greater(mag, self.limits.peak_ua, out=bad)
        if bad[bad.argmax()]:
            return False
        np.subtract(mag, env, out=self._buf2[:n])
        np.greater(self._buf2[:n], CLAMP_TOLERANCE * max(self.limits.peak_ua, 1.0), out=bad)
        if bad[bad.argmax()]:
            return False
        max_step = self.limits.max_slew_ua_s / self.sample_rate_hz
        if not abs(float(env[0]) - self._last_envelope_ua) <= max_step:
            return False
        if n > 1:
            # sum of squared steps <= max_step² bounds every single step (a steady envelope
            # passes at no cost; a ramp at the limit falls through to the exact path)
            step = self._buf2[: n - 1]
            np.subtract(env[1:], env[:-1], out=step)
            if not float(step.dot(step)) <= max_step * max_step:
                return False
        # a NaN sample passes every comparison above; its sum does not
        return not math.isnan(float(mag.sum()))

    def _violations(self, x: FloatArray, env: FloatArray) -> list[tuple[FaultCode, int, float]]:
        """Each rule's first offending sample: (rule, index, the sample as it came in, µA)."""
        n = x.size
        bad = self._bad[:n]
        found: list[tuple[FaultCode, int, float]] = []

        # every rule is judged before the clamp at the end, so a trip records what came in
        def first_of(code: FaultCode) -> None:
            if bad.any():
                index = int(np.argmax(bad))
                found.append((code, index, float(x[index])))

        np.isfinite(x, out=bad)
        np.logical_and(bad, np.isfinite(env), out=bad)
        np.logical_not(bad, out=bad)
        first_of(FaultCode.NON_FINITE)

        peak = self.limits.peak_ua
        mag = np.abs(x, out=self._buf[:n])
        np.greater(mag, peak * (1 + CLAMP_TOLERANCE) + 1e-9, out=bad)
        first_of(FaultCode.PEAK_EXCEEDED)

        # the sample may not exceed its commanded envelope
        np.subtract(mag, np.abs(env), out=self._buf2[:n])
        np.greater(self._buf2[:n], CLAMP_TOLERANCE * max(peak, 1.0), out=bad)
        first_of(FaultCode.ENVELOPE_EXCEEDED)

        # the envelope may not move faster than the slew limit
        step = self._buf2[:n]
        step[0] = env[0] - self._last_envelope_ua
        if n > 1:
            np.subtract(env[1:], env[:-1], out=step[1:])
        np.abs(step, out=step)
        max_step = self.limits.max_slew_ua_s / self.sample_rate_hz
        np.greater(step, max_step * (1 + 1e-6) + 1e-9, out=bad)
        first_of(FaultCode.SLEW_EXCEEDED)

        # rounding-level overshoot is clamped to the peak (``mag`` still holds |x|)
        np.greater(mag, peak, out=bad)
        clamped = int(np.count_nonzero(bad))
        if clamped:
            self.clamped_samples += clamped
            np.clip(x, -peak, peak, out=x)
        return found

    def _trip(self, code: FaultCode, index: int, value: float) -> None:
        t_s = index / self.sample_rate_hz
        self._fault = Fault.of(
            code,
            onset_t_s=t_s,
            detected_t_s=t_s,
            zero_t_s=t_s,
            detail={
                "sample_index": index,
                "value_ua": value if math.isfinite(value) else str(value),
            },
        )
