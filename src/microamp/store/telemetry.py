"""Telemetry kept with a record: downsampled to a few rows a second and packed small.

Rows are averaged per time bucket of ``1 / rate_hz`` seconds (the peak is the bucket's
maximum), stored as float32 columns, byte-shuffled (the same byte of every value side by side,
which compresses far better for slowly changing signals) and zlib-compressed. Flags are kept
as the list of changes, ``[t_s, [flag, ...]]``, since they change rarely.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CODEC",
    "COLUMNS",
    "PackedChunk",
    "Rows",
    "TelemetryBuffer",
    "columns_of",
    "downsample",
    "frame_values",
    "pack_rows",
    "unpack_rows",
]

COLUMNS = ("t_s", "commanded_ua", "delivered_ua", "peak_ua", "voltage_v", "impedance_ohm")
CODEC = "f32-shuffle-zlib-1"
_PEAK = COLUMNS.index("peak_ua")
_FLOAT32_BYTES = 4

Rows = npt.NDArray[np.float64]


def frame_values(frame: object) -> tuple[list[float], frozenset[str]]:
    """The numbers of one frame (a `TelemetryFrame` or its ``to_dict()``) and its flags.

    A missing or infinite impedance (open circuit) is kept as NaN.
    """
    values = []
    for name in COLUMNS:
        raw = _field(frame, name)
        value = float(raw) if isinstance(raw, int | float) else math.nan
        values.append(value if math.isfinite(value) else math.nan)
    flags = _field(frame, "flags") or ()
    return values, frozenset(str(flag) for flag in flags)


def _field(frame: object, name: str) -> Any:
    if isinstance(frame, Mapping):
        return frame.get(name)
    return getattr(frame, name, None)


def downsample(rows: Rows, rate_hz: float) -> Rows:
    """Average ``rows`` (time-ordered, columns as `COLUMNS`) per bucket of ``1/rate_hz`` s."""
    if len(rows) == 0:
        return rows.reshape(0, len(COLUMNS))
    buckets = np.floor(rows[:, 0] * rate_hz)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    finite = np.isfinite(rows)
    sums = np.add.reduceat(np.where(finite, rows, 0.0), starts, axis=0)
    n_finite = np.add.reduceat(finite.astype(np.int64), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n_finite > 0, sums / np.maximum(n_finite, 1), np.nan)
    peaks = np.maximum.reduceat(np.where(finite[:, _PEAK], rows[:, _PEAK], -np.inf), starts)
    means[:, _PEAK] = np.where(np.isfinite(peaks), peaks, np.nan)
    return means


def pack_rows(rows: Rows) -> bytes:
    """float32, column-major, byte-shuffled, zlib."""
    columns = np.ascontiguousarray(rows.astype(np.float32).T)
    planes = columns.view(np.uint8).reshape(-1, _FLOAT32_BYTES).T
    return zlib.compress(np.ascontiguousarray(planes).tobytes(), 6)


def unpack_rows(data: bytes, n_rows: int, n_columns: int = len(COLUMNS)) -> Rows:
    """The inverse of `pack_rows`: an ``(n_rows, n_columns)`` float64 array."""
    planes = np.frombuffer(zlib.decompress(data), dtype=np.uint8)
    raw = np.ascontiguousarray(planes.reshape(_FLOAT32_BYTES, -1).T).view(np.float32)
    return raw.reshape(n_columns, n_rows).T.astype(np.float64)


@dataclass(frozen=True, slots=True)
class PackedChunk:
    """One chunk ready to store."""

    t_start_s: float
    t_end_s: float
    rows: int
    source_frames: int
    data: bytes
    flag_changes: list[Any]


class TelemetryBuffer:
    """Collects frames; `take` hands back the complete buckets, packed."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self._rows: list[list[float]] = []
        self._flag_changes: list[Any] = []
        self._flags: frozenset[str] = frozenset()

    def add(self, frame: object) -> None:
        values, flags = frame_values(frame)
        if math.isnan(values[0]):
            return  # a frame without a time cannot be placed; the runner always sets t_s
        self._rows.append(values)
        if flags != self._flags:
            self._flag_changes.append([values[0], sorted(flags)])
            self._flags = flags

    def span_s(self) -> float:
        """Device time covered by the buffered frames."""
        return self._rows[-1][0] - self._rows[0][0] if self._rows else 0.0

    def take(self, *, final: bool = False) -> PackedChunk | None:
        """Pack the buffered frames. Unless ``final``, the last bucket (maybe still filling)
        stays buffered so no bucket is ever split between two chunks."""
        keep = 0 if final else self._open_bucket_size()
        ready = self._rows[: len(self._rows) - keep]
        if not ready:
            return None
        self._rows = self._rows[len(ready) :]
        rows = downsample(np.asarray(ready, dtype=np.float64), self.rate_hz)
        changes, self._flag_changes = self._flag_changes, []
        return PackedChunk(
            t_start_s=ready[0][0],
            t_end_s=ready[-1][0],
            rows=len(rows),
            source_frames=len(ready),
            data=pack_rows(rows),
            flag_changes=changes,
        )

    def _open_bucket_size(self) -> int:
        last = math.floor(self._rows[-1][0] * self.rate_hz) if self._rows else 0
        size = 0
        for row in reversed(self._rows):
            if math.floor(row[0] * self.rate_hz) != last:
                break
            size += 1
        return size


def columns_of(rows: Rows, columns: Sequence[str] = COLUMNS) -> dict[str, list[float | None]]:
    """Rows as ``{column: [value or None]}`` for JSON (NaN becomes None)."""
    return {
        name: [None if math.isnan(v) else round(float(v), 6) for v in rows[:, i]]
        for i, name in enumerate(columns)
    }
