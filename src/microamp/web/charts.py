"""Inline SVG charts drawn on the server: a waveform preview and time series of a record.

No plotting library and no script: an SVG string the template inlines, so a printed record and
a keyboard user see the same chart. Every column keeps its minimum and maximum, so a narrow
pulse still shows at any width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
from numpy.typing import NDArray

from microamp.stimulus.renderer import render_steady
from microamp.stimulus.waveform import Waveform

__all__ = ["Series", "series_svg", "waveform_svg"]

_MAX_SAMPLES = 200_000


def _preview_span_s(waveform: Waveform) -> float:
    # three periods show the shape; a slow polarity reversal is said in words, not drawn
    return float(min(max(3.0 / waveform.frequency_hz, 0.002), 12.0))


def _envelope(samples: NDArray[np.float64], columns: int) -> tuple[NDArray[np.float64], ...]:
    usable = (
        samples[: samples.size - samples.size % columns] if samples.size >= columns else samples
    )
    if usable.size < columns:
        return usable, usable
    shaped = usable.reshape(columns, -1)
    return shaped.min(axis=1), shaped.max(axis=1)


def waveform_svg(waveform: Waveform, *, width: int = 320, height: int = 96) -> str:
    """A preview of the steady waveform over a few periods (two reversals when alternating)."""
    span_s = _preview_span_s(waveform)
    rate_hz = min(_MAX_SAMPLES / span_s, max(20_000.0, 40 * width / span_s))
    if waveform.shape == "pulse":
        rate_hz = min(_MAX_SAMPLES / span_s, max(rate_hz, 4e6 / max(waveform.phase_us, 1.0)))
    samples = render_steady(waveform, span_s, rate_hz)
    lows, highs = _envelope(samples, width)
    peak = max(float(np.max(np.abs(samples))), 1e-9)
    mid, scale = height / 2 + 8, (height / 2 - 14) / peak
    points = []
    for x, (lo, hi) in enumerate(zip(lows, highs, strict=True)):
        points.append(f"{x},{mid - hi * scale:.1f}")
        if hi != lo:
            points.append(f"{x},{mid - lo * scale:.1f}")
    label = (
        f"{waveform.shape}, {waveform.amplitude_ua:g} µA peak, {waveform.frequency_hz:g} Hz, "
        f"{waveform.polarity}; {span_s * 1000:g} ms shown"
    )
    return (
        f'<svg class="wave" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>"
        f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" stroke="#2b4a42" stroke-width="1"/>'
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#5fe0a8" '
        f'stroke-width="1.5" stroke-linejoin="round"/>'
        f'<text x="6" y="13" fill="#9fd8c2" font-size="10" font-family="sans-serif">'
        f"{waveform.amplitude_ua:g} µA · {waveform.frequency_hz:g} Hz{_reversal(waveform)}"
        "</text></svg>"
    )


def _reversal(waveform: Waveform) -> str:
    if waveform.polarity == "alternating":
        return f" · polarity reverses every {waveform.reversal_s:g} s"
    return f" · {waveform.polarity}"


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
