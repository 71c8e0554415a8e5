"""`FrameMeter`: turns per-sample currents and voltages into telemetry frames, vectorised.

A frame covers a fixed number of samples; a block may end mid-frame, so partial sums carry over.
Measurement noise is seeded and added per frame (as an ADC reading averaged over the window
would show it), so a run with the same seed yields the same frames.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from microamp.devices.base import TelemetryFrame

__all__ = ["FrameMeter"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Below this peak, a frame carries no current worth an impedance estimate (µA).
_MIN_PEAK_UA = 1.0


class FrameMeter:
    """Frames of ``frame_samples`` samples at ``sample_rate_hz`` with seeded noise."""

    def __init__(
        self,
        sample_rate_hz: float,
        frame_samples: int,
        *,
        noise_ua: float,
        noise_v: float,
        seed: int,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.frame_samples = frame_samples
        self.noise_ua = noise_ua
        self.noise_v = noise_v
        self._rng = np.random.default_rng(seed)
        # the absolute sample a part-filled frame started at: `add` sets it when a frame begins
        self._start_index = 0
        self._clear()

    def _clear(self) -> None:
        self._count = 0
        self._sum_cmd = 0.0
        self._sum_del = 0.0
        self._max_cmd = 0.0
        self._max_del = 0.0
        self._max_v = 0.0
        self._open = False
        self._rail = False

    def skip(self) -> None:
        """Drop the partial frame (a stalled telemetry path measures nothing)."""
        self._clear()

    def add(
        self,
        start_index: int,
        commanded_ua: FloatArray,
        delivered_ua: FloatArray,
        voltage_v: FloatArray,
        rail: BoolArray,
        *,
        open_circuit: bool,
    ) -> list[TelemetryFrame]:
        """Measure one block starting at absolute sample ``start_index``; return finished frames."""
        frames: list[TelemetryFrame] = []
        n = commanded_ua.size
        pos = 0
        while pos < n:
            if self._count == 0:
                self._start_index = start_index + pos
            whole = (n - pos) // self.frame_samples if self._count == 0 else 0
            if whole > 1:
                # several complete frames at once: reshape rather than loop per frame
                span = whole * self.frame_samples
                frames.extend(
                    self._whole_frames(
                        commanded_ua[pos : pos + span],
                        delivered_ua[pos : pos + span],
                        voltage_v[pos : pos + span],
                        rail[pos : pos + span],
                        open_circuit,
                    )
                )
                pos += span
                continue
            take = min(n - pos, self.frame_samples - self._count)
            sl = slice(pos, pos + take)
            self._accumulate(commanded_ua[sl], delivered_ua[sl], voltage_v[sl], rail[sl])
            self._open = self._open or open_circuit
            pos += take
            if self._count == self.frame_samples:
                frames.append(self._emit())
        return frames

    def _accumulate(
        self, cmd: FloatArray, dlv: FloatArray, volt: FloatArray, rail: BoolArray
    ) -> None:
        if cmd.size == 0:
            return
        self._count += cmd.size
        self._sum_cmd += float(np.sum(np.abs(cmd)))
        self._sum_del += float(np.sum(np.abs(dlv)))
        self._max_cmd = max(self._max_cmd, float(np.max(np.abs(cmd))))
        self._max_del = max(self._max_del, float(np.max(np.abs(dlv))))
        self._max_v = max(self._max_v, float(np.max(np.abs(volt))))
        self._rail = self._rail or bool(rail.any())

    def _emit(self) -> TelemetryFrame:
        n = self._count
        flags = {
            name
            for name, on in (
                ("open_circuit", self._open),
                ("compliance", self._rail and not self._open),
            )
            if on
        }
        frame = self._frame(
            (self._start_index + n) / self.sample_rate_hz,
            self._sum_cmd / n,
            self._max_cmd,
            self._sum_del / n,
            self._max_del,
            self._max_v,
            frozenset(flags),
        )
        self._clear()
        return frame

    def _whole_frames(
        self,
        cmd: FloatArray,
        dlv: FloatArray,
        volt: FloatArray,
        rail: BoolArray,
        open_circuit: bool,
    ) -> list[TelemetryFrame]:
        shape = (-1, self.frame_samples)
        abs_cmd = np.abs(cmd).reshape(shape)
        mean_cmd = np.mean(abs_cmd, axis=1)
        peak_cmd = np.max(abs_cmd, axis=1)
        abs_del = np.abs(dlv).reshape(shape)
        mean_del = np.mean(abs_del, axis=1)
        peak_del = np.max(abs_del, axis=1)
        peak_v = np.max(np.abs(volt).reshape(shape), axis=1)
        any_rail = np.any(rail.reshape(shape), axis=1)
        frames = []
        for i in range(mean_cmd.size):
            flags = {"open_circuit"} if open_circuit else set()
            if any_rail[i] and not open_circuit:
                flags.add("compliance")
            end_index = self._start_index + (i + 1) * self.frame_samples
            frames.append(
                self._frame(
                    end_index / self.sample_rate_hz,
                    float(mean_cmd[i]),
                    float(peak_cmd[i]),
                    float(mean_del[i]),
                    float(peak_del[i]),
                    float(peak_v[i]),
                    frozenset(flags),
                )
            )
        return frames

    def _frame(
        self,
        t_s: float,
        commanded_ua: float,
        commanded_peak_ua: float,
        delivered_ua: float,
        peak_ua: float,
        voltage_v: float,
        flags: frozenset[str],
    ) -> TelemetryFrame:
        # zero-mean noise, unclipped on the mean so charge sums stay unbiased: an idle channel
        # may read a fraction of a µA below zero, as an ADC with offset noise does
        noise = self._rng.normal(0.0, 1.0, 3)
        delivered = delivered_ua + self.noise_ua * float(noise[0])
        peak = max(0.0, peak_ua + self.noise_ua * float(noise[1]))
        voltage = max(0.0, voltage_v + self.noise_v * float(noise[2]))
        return TelemetryFrame(
            t_s=t_s,
            commanded_ua=commanded_ua,
            delivered_ua=delivered,
            peak_ua=peak,
            voltage_v=voltage,
            impedance_ohm=_impedance_ohm(voltage, peak, commanded_ua),
            flags=flags,
            window_s=self.frame_samples / self.sample_rate_hz,
            commanded_peak_ua=commanded_peak_ua,
        )


def _impedance_ohm(voltage_v: float, peak_ua: float, commanded_ua: float) -> float:
    """Volts needed per ampere; inf when current is commanded but none flows, nan when idle."""
    if peak_ua >= _MIN_PEAK_UA:
        return voltage_v / (peak_ua * 1e-6)
    return math.inf if commanded_ua >= _MIN_PEAK_UA else math.nan
