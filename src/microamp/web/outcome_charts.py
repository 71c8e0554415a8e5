"""Inline SVG of one measure over time: the first comparable photo's value with the measurement
error drawn as a band around it, each photo a point (hollow when flagged, so never compared),
and the sessions attended as ticks along the bottom. The table beside it carries the numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape

__all__ = ["measure_svg"]

_WIDTH, _HEIGHT = 360, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 10, 10, 28


def _scale(lo: float, hi: float, out_lo: float, out_hi: float) -> tuple[float, float]:
    span = hi - lo or 1.0
    factor = (out_hi - out_lo) / span
    return factor, out_lo - lo * factor


def measure_svg(
    *,
    label: str,
    unit: str,
    points: Sequence[tuple[date, float, bool]],
    baseline: float | None,
    error: float,
    session_days: Sequence[date],
    summary: str,
) -> str:
    """``points``: (day, value, comparable) per photo; ``summary``: the chart in words."""
    days = [d for d, _, _ in points] + list(session_days)
    values = [v for _, v, _ in points]
    if baseline is not None:
        values += [baseline - error, baseline + error]
    if not days or not values:
        return ""
    first, last = min(days), max(days)
    x_factor, x_offset = _scale(0, max(1, (last - first).days), _LEFT, _WIDTH - _RIGHT)
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or 1.0
    y_factor, y_offset = _scale(lo - pad, hi + pad, _HEIGHT - _BOTTOM, _TOP)

    def x(day: date) -> float:
        return (day - first).days * x_factor + x_offset

    def y(value: float) -> float:
        return value * y_factor + y_offset

    parts = [
        f'<svg class="measure-chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(label)}: {escape(summary)}">',
        f"<title>{escape(label)}</title><desc>{escape(summary)}</desc>",
        f'<line class="axis" x1="{_LEFT}" y1="{_HEIGHT - _BOTTOM}" x2="{_WIDTH - _RIGHT}" '
        f'y2="{_HEIGHT - _BOTTOM}"/>',
    ]
    if baseline is not None:
        top, bottom = y(baseline + error), y(baseline - error)
        parts.append(
            f'<rect class="band" x="{_LEFT}" y="{top:.1f}" width="{_WIDTH - _LEFT - _RIGHT}" '
            f'height="{max(0.5, bottom - top):.1f}"/>'
        )
        parts.append(
            f'<line class="baseline" x1="{_LEFT}" y1="{y(baseline):.1f}" '
            f'x2="{_WIDTH - _RIGHT}" y2="{y(baseline):.1f}"/>'
        )
    for tick in (lo, hi):
        parts.append(
            f'<text class="tick" x="{_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick:.1f}</text>"
        )
    for day in session_days:
        parts.append(
            f'<line class="session" x1="{x(day):.1f}" y1="{_HEIGHT - _BOTTOM}" '
            f'x2="{x(day):.1f}" y2="{_HEIGHT - _BOTTOM + 6}"/>'
        )
    for day, value, comparable in points:
        kind = "point" if comparable else "point flagged"
        parts.append(f'<circle class="{kind}" cx="{x(day):.1f}" cy="{y(value):.1f}" r="4"/>')
    parts.append(
        f'<text class="tick" x="{_LEFT}" y="{_HEIGHT - 4}">{first.isoformat()}</text>'
        f'<text class="tick" x="{_WIDTH - _RIGHT}" y="{_HEIGHT - 4}" text-anchor="end">'
        f"{last.isoformat()}</text>"
    )
    parts.append(f'<text class="tick" x="{_LEFT + 4}" y="{_TOP + 10}">{escape(unit)}</text></svg>')
    return "".join(parts)
