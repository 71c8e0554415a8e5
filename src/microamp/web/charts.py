"""Inline SVG charts drawn on the server: a waveform preview and a pulse in detail (the time
charts of a record are `microamp.viz.series_chart`).

No plotting library and no script: an SVG string the template inlines, so a printed record and
a keyboard user see the same chart. Every column keeps its minimum and maximum, so a narrow
pulse still shows at any width.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

import numpy as np
from numpy.typing import NDArray

from microamp.session.render import PulseView
from microamp.stimulus.renderer import render_steady
from microamp.stimulus.waveform import Waveform

__all__ = ["pulse_svg", "waveform_svg"]

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


_PANEL_H = 130.0
_LEFT, _RIGHT, _GAP = 64.0, 14.0, 44.0


def _trace(
    samples: NDArray[np.float64], lo: float, hi: float, box: tuple[float, float, float, float]
) -> str:
    """The samples as a polyline, each column keeping its minimum and maximum."""
    left, top, w, h = box
    columns = max(1, min(int(w), samples.size))
    lows, highs = _envelope(samples, columns)
    span = hi - lo or 1.0
    step = w / max(len(lows) - 1, 1)
    points = []
    for i, (a, b) in enumerate(zip(lows, highs, strict=True)):
        x = left + i * step
        points.append(f"{x:.1f},{top + h - (b - lo) / span * h:.1f}")
        if a != b:
            points.append(f"{x:.1f},{top + h - (a - lo) / span * h:.1f}")
    return " ".join(points)


def _panel(
    top: float,
    width: int,
    unit: str,
    traces: Sequence[tuple[NDArray[np.float64], str, str]],
) -> list[str]:
    """One panel: a frame, the zero line, its scale in ``unit`` and each trace."""
    w = width - _LEFT - _RIGHT
    finite = [t for t, _, _ in traces if t.size]
    hi = max([float(np.max(t)) for t in finite] + [1e-9])
    lo = min([float(np.min(t)) for t in finite] + [0.0])
    pad = (hi - lo) * 0.08 or 1.0
    hi, lo = hi + pad, lo - pad
    box = (_LEFT, top, w, _PANEL_H)
    zero_y = top + _PANEL_H - (0 - lo) / (hi - lo) * _PANEL_H
    out = [
        f'<rect x="{_LEFT}" y="{top}" width="{w}" height="{_PANEL_H}" fill="#fff" '
        'stroke="#dde4e2"/>',
        f'<line x1="{_LEFT}" y1="{zero_y:.1f}" x2="{_LEFT + w}" y2="{zero_y:.1f}" '
        'stroke="#9aa7ab" stroke-dasharray="3 3"/>',
        f'<text x="{_LEFT - 6}" y="{top + 10}" text-anchor="end" fill="#3b4a4f">'
        f"{hi:.3g} {unit}</text>",
        f'<text x="{_LEFT - 6}" y="{zero_y + 4:.1f}" text-anchor="end" fill="#3b4a4f">0</text>',
        f'<text x="{_LEFT - 6}" y="{top + _PANEL_H}" text-anchor="end" fill="#3b4a4f">'
        f"{lo:.3g} {unit}</text>",
    ]
    for i, (samples, label, colour) in enumerate(traces):
        if samples.size:
            out.append(
                f'<polyline points="{_trace(samples, lo, hi, box)}" fill="none" '
                f'stroke="{colour}" stroke-width="1.5" stroke-linejoin="round"/>'
            )
        out.append(
            f'<text x="{_LEFT + i * 200}" y="{top - 6}" fill="{colour}">{escape(label)}</text>'
        )
    return out


def pulse_svg(view: PulseView, *, width: int = 720) -> str:
    """Current (commanded after the limits, and delivered) and electrode voltage over the
    window, time in ms along the bottom."""
    height = int(2 * _PANEL_H + _GAP + 60)
    window_ms = view.window_s * 1000
    label = (
        f"Current in µA and electrode voltage in V over {window_ms:g} ms into the "
        f"{view.load} load, {view.profile} profile"
    )
    out = [
        f'<svg class="chart pulse" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(label)}</title>",
    ]
    out += _panel(
        22.0,
        width,
        "µA",
        [
            (view.commanded_ua, "commanded µA", "#7a8a8f"),
            (view.delivered_ua, "delivered µA", "#0b7a5a"),
        ],
    )
    out += _panel(22.0 + _PANEL_H + _GAP, width, "V", [(view.voltage_v, "electrode V", "#8a3ba0")])
    right = width - _RIGHT
    out.append(
        f'<text x="{_LEFT}" y="{height - 12}" fill="#3b4a4f">0 ms</text>'
        f'<text x="{(_LEFT + right) / 2:.0f}" y="{height - 12}" fill="#3b4a4f" '
        f'text-anchor="middle">{window_ms / 2:.3g} ms</text>'
        f'<text x="{right}" y="{height - 12}" fill="#3b4a4f" text-anchor="end">'
        f"{window_ms:.3g} ms</text></svg>"
    )
    return "".join(out)
