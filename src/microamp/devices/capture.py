"""Write what the simulator's probes carried to a file, block by block, as it is rendered.

`ProbeCapture` is a `microamp.devices.sim.Probes` hook: every block the sim's source drove
(after the limits, the output guard and the device's own trip) reaches it with what flowed into
the load and the voltage it took, and goes straight to the file, so a whole session never sits
in memory.

- WAV (stdlib `wave`): two channels of signed 16-bit PCM at the device's sample rate, channel 1
  the current the source drove, channel 2 the current that flowed into the load. Full scale
  (32767) is ``full_scale_ua`` (the device's maximum current): one step is
  ``full_scale_ua / 32767`` µA, and a sample is rounded to the nearest step. For an audio chain
  or an arbitrary waveform generator: scale its output so that full scale is that current.
- CSV: ``t_s,commanded_ua,delivered_ua,voltage_v``, one row per sample, for analysis.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path
from typing import IO, Literal

import numpy as np
import numpy.typing as npt

from microamp.devices.load import LoadResult
from microamp.errors import InvalidValue

__all__ = ["FORMATS", "ProbeCapture", "capture_format", "read_wav_ua"]

FloatArray = npt.NDArray[np.float64]
Format = Literal["wav", "csv"]
FORMATS: tuple[str, ...] = ("wav", "csv")
PCM_FULL_SCALE = 32767


def capture_format(path: Path) -> Format:
    """The format a file name asks for, by its suffix; `InvalidValue` (``out``) otherwise."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidValue("out", str(path), "must end in .wav or .csv")
    return suffix  # type: ignore[return-value]


class ProbeCapture:
    """Stream the probes' samples to ``path`` (see the module docstring); use as a context."""

    def __init__(self, path: Path, sample_rate_hz: float, full_scale_ua: float) -> None:
        if not (math.isfinite(full_scale_ua) and full_scale_ua > 0):
            raise InvalidValue("full_scale_ua", full_scale_ua, "must be greater than 0 µA")
        self.path = path
        self.format = capture_format(path)
        self.sample_rate_hz = sample_rate_hz
        self.full_scale_ua = full_scale_ua
        self.samples = 0
        self.peak_ua = 0.0
        self.clipped = 0
        self._wav: wave.Wave_write | None = None
        self._csv: IO[str] | None = None
        self._next_index: int | None = None

    def __enter__(self) -> ProbeCapture:
        if self.format == "wav":
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in __exit__
            self._wav.setnchannels(2)
            self._wav.setsampwidth(2)
            self._wav.setframerate(round(self.sample_rate_hz))
        else:
            self._csv = self.path.open("w", encoding="utf-8", newline="")
            self._csv.write("t_s,commanded_ua,delivered_ua,voltage_v\n")
        return self

    def __exit__(self, *_: object) -> None:
        if self._wav is not None:
            self._wav.close()
        if self._csv is not None:
            self._csv.close()

    def __call__(self, start: int, commanded_ua: FloatArray, result: LoadResult) -> None:
        if self._next_index is not None and start != self._next_index:
            raise InvalidValue(
                "start", start, f"blocks must follow on: expected {self._next_index}"
            )
        n = commanded_ua.size
        self._next_index = start + n
        self.samples += n
        if n:
            self.peak_ua = max(self.peak_ua, float(np.max(np.abs(commanded_ua))))
        if self._wav is not None:
            self._wav.writeframes(self._pcm(commanded_ua, result.delivered_ua))
        elif self._csv is not None:
            t_s = np.arange(start, start + n) / self.sample_rate_hz
            rows = np.column_stack([t_s, commanded_ua, result.delivered_ua, result.voltage_v])
            np.savetxt(self._csv, rows, fmt=("%.6f", "%.4f", "%.4f", "%.5f"), delimiter=",")

    def _pcm(self, commanded_ua: FloatArray, delivered_ua: FloatArray) -> bytes:
        frames = np.empty((commanded_ua.size, 2))
        frames[:, 0] = commanded_ua
        frames[:, 1] = delivered_ua
        scaled = np.rint(frames * (PCM_FULL_SCALE / self.full_scale_ua))
        over = np.abs(scaled) > PCM_FULL_SCALE
        self.clipped += int(over.sum())
        np.clip(scaled, -PCM_FULL_SCALE, PCM_FULL_SCALE, out=scaled)
        return scaled.astype("<i2").tobytes()

    @property
    def step_ua(self) -> float:
        """One PCM step in µA (WAV only)."""
        return self.full_scale_ua / PCM_FULL_SCALE


def read_wav_ua(path: Path, full_scale_ua: float) -> tuple[float, FloatArray]:
    """Read a capture back: its sample rate and an (n, 2) array in µA."""
    with wave.open(str(path), "rb") as wav:
        rate_hz = float(wav.getframerate())
        raw = wav.readframes(wav.getnframes())
        channels = wav.getnchannels()
    pcm = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
    return rate_hz, pcm.astype(np.float64) * (full_scale_ua / PCM_FULL_SCALE)
