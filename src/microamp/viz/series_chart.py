"""Time charts of a session's telemetry as inline SVG, drawn without a plotting library.

An SVG string that a page inlines or an export writes as a file, so a printed record, a
keyboard user and a person reading her own export see the same chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
from numpy.typing import NDArray

__all__ = ["CHART_POINTS", "Series", "series_svg", "session_chart_svg"]

# a session's chart keeps at most this many points, whatever the telemetry's length
CHART_POINTS = 600


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a chart: values on their own axis, drawn in ``colour``."""

    label: str
    unit: str
    values: Sequence[float]
    colour: str


def _path(t: NDArray[np.float64], v: NDArray[np.float64], box: tuple[float, ...]) -> str:
    left, top, w, h = box
    finite = np.isfinite(v)
    if not finite.any():
        return ""
    hi = float(np.nanmax(v[finite]))
    lo = min(0.0, float(np.nanmin(v[finite])))
    span_v = hi - lo or 1.0
    span_t = float(t[-1] - t[0]) or 1.0
    xs = left + (t - t[0]) / span_t * w
    ys = top + h - (v - lo) / span_v * h
    parts = []
    pen_up = True
    for x, y, ok in zip(xs, ys, finite, strict=True):
        if not ok:
            pen_up = True
            continue
        parts.append(f"{'M' if pen_up else 'L'}{x:.1f},{y:.1f}")
        pen_up = False
    return " ".join(parts)


def series_svg(
    times_s: Sequence[float], series: Sequence[Series], *, width: int = 720, height: int = 220
) -> str:
    """A time chart, one y scale per series (its maximum labelled), time along the bottom."""
    if len(times_s) < 2:
        return '<p class="empty">Not enough telemetry to draw.</p>'
    t = np.asarray(times_s, dtype=float)
    box = (44.0, 26.0, width - 58.0, height - 52.0)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(", ".join(s.label for s in series))} over time" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
        f'<rect x="{box[0]}" y="{box[1]}" width="{box[2]}" height="{box[3]}" fill="#fff" '
        'stroke="#dde4e2"/>',
    ]
    for i, s in enumerate(series):
        v = np.asarray(s.values, dtype=float)
        d = _path(t, v, box)
        if d:
            out.append(f'<path d="{d}" fill="none" stroke="{s.colour}" stroke-width="1.6"/>')
        finite = v[np.isfinite(v)]
        top = f"{float(finite.max()):.0f} {s.unit}" if finite.size else "—"
        out.append(
            f'<text x="{box[0] + i * 220}" y="{box[1] - 8}" fill="{s.colour}">'
            f"{escape(s.label)} (max {escape(top)})</text>"
        )
    out.append(
        f'<text x="{box[0]}" y="{height - 10}" fill="#5b6b70">0 s</text>'
        f'<text x="{box[0] + box[2]}" y="{height - 10}" fill="#5b6b70" text-anchor="end">'
        f"{t[-1] - t[0]:.0f} s</text></svg>"
    )
    return "".join(out)


def _bucketed(
    rows: NDArray[np.float64], columns: Sequence[str], points: int
) -> dict[str, NDArray[np.float64]]:
    """At most ``points`` rows: the peak keeps each bucket's maximum (so the chart's peak is the
    record's true peak), the mean current and impedance their bucket's mean."""
    col = {name: rows[:, i] for i, name in enumerate(columns)}
    if rows.shape[0] <= points:
        return col
    starts = np.arange(0, rows.shape[0], -(-rows.shape[0] // points))

    def reduce(values: NDArray[np.float64], how: str) -> NDArray[np.float64]:
        finite = np.isfinite(values)
        if how == "max":
            top = np.maximum.reduceat(np.where(finite, values, -np.inf), starts)
            return np.where(np.isfinite(top), top, np.nan)
        sums = np.add.reduceat(np.where(finite, values, 0.0), starts)
        n = np.add.reduceat(finite.astype(np.int64), starts)
        return np.where(n > 0, sums / np.maximum(n, 1), np.nan)

    return {
        "t_s": col["t_s"][starts],
        "peak_ua": reduce(col["peak_ua"], "max"),
        "delivered_ua": reduce(col["delivered_ua"], "mean"),
        "impedance_ohm": reduce(col["impedance_ohm"], "mean"),
    }


def session_chart_svg(rows: NDArray[np.float64], columns: Sequence[str]) -> str:
    """The peak and mean delivered current and the impedance of a session over time; ``rows``
    its telemetry, one column per name of ``columns``."""
    col = _bucketed(rows, columns, CHART_POINTS)
    impedance = np.where(np.isfinite(col["impedance_ohm"]), col["impedance_ohm"] / 1000, np.nan)
    return series_svg(
        col["t_s"].tolist(),
        [
            Series("peak delivered", "µA", np.maximum(col["peak_ua"], 0.0).tolist(), "#2c6e68"),
            Series("mean delivered", "µA", np.maximum(col["delivered_ua"], 0.0).tolist(),
                   "#7aa9a3"),
            Series("impedance", "kΩ", impedance.tolist(), "#c2410c"),
        ],
    )  # fmt: skip
