"""The face map: an SVG front view with muscles by zone, forbidden placements and probe paths.

`facemap_svg` returns SVG text (no file, no I/O) so the CLI can write it and the web app can
inline it; every class its style rules use starts with ``fm-`` so that they stay on the map
(``step``, on each step's group, is a hook for scripts and has no rule). Every id inside a drawing
starts with the drawing's own id, so that several maps inlined in one page never share an id and
a marker reference always resolves inside its own drawing. Coordinates are those of `microamp.protocols.anatomy` (400 x 540, midline x = 200).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

from microamp.errors import InvalidValue
from microamp.protocols.anatomy import (
    FORBIDDEN,
    MAP_HEIGHT,
    MAP_WIDTH,
    MUSCLES,
    Muscle,
    Point,
    mirror,
)
from microamp.protocols.schema import PlannedStep

__all__ = ["CLASS_PREFIX", "MAP_STYLE_RULES", "ZONE_COLOURS", "facemap_svg", "step_paths"]

ZONE_COLOURS: dict[str, str] = {
    "forehead": "#6c8ebf",
    "brows": "#9673a6",
    "eyes": "#d79b00",
    "nose": "#82b366",
    "cheeks": "#b85450",
    "mouth": "#d6b656",
    "jawline": "#3a7d7c",
    "chin": "#a0522d",
    "neck": "#5b7c99",
}
_ID = re.compile(r"[A-Za-z][\w-]*")
_PATH = "#1d4ed8"
_HIGHLIGHT = "#e11d48"
_FORBIDDEN = "#dc2626"

_HEAD = (
    "M200,38 C120,38 78,85 74,150 C70,190 68,215 72,240 C76,275 84,300 96,318 "
    "C118,350 150,380 200,386 C250,380 282,350 304,318 C316,300 324,275 328,240 "
    "C332,215 330,190 326,150 C322,85 280,38 200,38 Z"
)
_NECK = "M140,368 C142,410 138,450 132,488 M260,368 C258,410 262,450 268,488"
_SHOULDERS = "M132,488 C100,494 60,500 20,512 M268,488 C300,494 340,500 380,512"
_FEATURES = (
    # brows, eyes, nose, lips
    '<path d="M112,160 Q145,146 182,154" class="fm-feature"/>'
    '<path d="M288,160 Q255,146 218,154" class="fm-feature"/>'
    '<ellipse cx="148" cy="192" rx="22" ry="9" class="fm-feature"/>'
    '<ellipse cx="252" cy="192" rx="22" ry="9" class="fm-feature"/>'
    '<circle cx="148" cy="192" r="5" class="fm-pupil"/>'
    '<circle cx="252" cy="192" r="5" class="fm-pupil"/>'
    '<path d="M192,178 L186,250 Q180,262 190,266 Q200,272 210,266 Q220,262 214,250 L208,178" '
    'class="fm-feature"/>'
    '<path d="M168,310 Q184,298 200,302 Q216,298 232,310 Q216,324 200,324 Q184,324 168,310 Z" '
    'class="fm-feature"/>'
    '<path d="M66,185 C56,190 56,235 70,245 M334,185 C344,190 344,235 330,245" class="fm-feature"/>'
)
# Inline SVG styles apply to the whole page they are inlined in, so every class here carries the
# map's own prefix: a bare ".num" or ".zone" would restyle the page's tables and labels too.
CLASS_PREFIX = "fm-"
# Fixed text: a page's Content-Security-Policy allows this one style block by its hash.
MAP_STYLE_RULES = (
    ".fm-skin{fill:#fbeee6;stroke:#8a6f63;stroke-width:1.5}"
    ".fm-feature{fill:none;stroke:#8a6f63;stroke-width:1.2}"
    ".fm-pupil{fill:#8a6f63}"
    ".fm-muscle{fill:none;stroke-width:3;stroke-linecap:round;opacity:.45}"
    ".fm-zone{font:10px sans-serif;fill:#555}"
    ".fm-forbidden{fill:#dc2626;fill-opacity:.12;stroke:#dc2626;stroke-dasharray:4 3}"
    ".fm-probe{fill:none;stroke-width:2.2;stroke-linecap:round}"
    ".fm-num{font:bold 9px sans-serif;fill:#fff;text-anchor:middle;dominant-baseline:central}"
    ".fm-title{font:bold 14px sans-serif;fill:#222}"
)
_STYLE = f"<style>{MAP_STYLE_RULES}</style>"


def _points(points: Iterable[Point]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _sides_of(muscle: Muscle) -> list[tuple[Point, ...]]:
    if not muscle.paired:
        return [muscle.path_xy]
    return [muscle.path_xy, tuple(mirror(p) for p in muscle.path_xy)]


def step_paths(step: PlannedStep) -> list[tuple[Point, ...]]:
    """The probe paths of a step on the map, one per side worked (the left side mirrored)."""
    if not step.path_xy:
        return []
    paths = []
    for side in step.sides:
        path = step.path_xy
        paths.append(tuple(mirror(p) for p in path) if side == "left" else path)
    return paths


def _zone_centres() -> dict[str, Point]:
    sums: dict[str, list[float]] = {}
    for muscle in MUSCLES.values():
        for x, y in muscle.path_xy:
            acc = sums.setdefault(muscle.zone, [0.0, 0.0, 0.0])
            acc[0] += MAP_WIDTH - x if muscle.paired else x
            acc[1] += y
            acc[2] += 1
    return {zone: (sx / n, sy / n) for zone, (sx, sy, n) in sums.items()}


def _muscles_layer(drawing_id: str) -> list[str]:
    out = [f'<g id="{drawing_id}-muscles">']
    for muscle in MUSCLES.values():
        colour = ZONE_COLOURS[muscle.zone]
        for path in _sides_of(muscle):
            out.append(
                f'<polyline points="{_points(path)}" class="fm-muscle" stroke="{colour}">'
                f"<title>{escape(muscle.label)} ({muscle.zone})</title></polyline>"
            )
    for zone, (x, y) in _zone_centres().items():
        out.append(f'<text x="{x + 34:.1f}" y="{y:.1f}" class="fm-zone">{zone}</text>')
    out.append("</g>")
    return out


def _forbidden_layer(drawing_id: str) -> list[str]:
    out = [f'<g id="{drawing_id}-forbidden">']
    for place in FORBIDDEN:
        for cx, cy in place.centers_xy:
            out.append(
                f'<ellipse cx="{cx:g}" cy="{cy:g}" rx="{place.rx:g}" ry="{place.ry:g}" '
                f'class="fm-forbidden"><title>never: {escape(place.description)}</title></ellipse>'
            )
    out.append("</g>")
    return out


def _step_layer(step: PlannedStep, highlighted: bool, dimmed: bool, drawing_id: str) -> list[str]:
    colour = _HIGHLIGHT if highlighted else _PATH
    opacity = "0.35" if dimmed else "1"
    width = ' stroke-width="4"' if highlighted else ""
    label = f"{step.index + 1}. {step.label} ({step.side}, {step.technique})"
    out = [
        f'<g class="step" data-step="{step.index}" opacity="{opacity}">'
        f"<title>{escape(label)}</title>"
    ]
    for path in step_paths(step):
        marker = f"{drawing_id}-arrow-hi" if highlighted else f"{drawing_id}-arrow"
        out.append(
            f'<polyline points="{_points(path)}" class="fm-probe" stroke="{colour}"{width} '
            f'marker-end="url(#{marker})"/>'
        )
        x, y = path[0]
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}"/>'
            f'<text x="{x:.1f}" y="{y:.1f}" class="fm-num">{step.index + 1}</text>'
        )
    out.append("</g>")
    return out


def _defs(drawing_id: str) -> str:
    def arrow(name: str, colour: str) -> str:
        return (
            f'<marker id="{name}" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="6" '
            f'markerHeight="6" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )

    path, highlight = (
        arrow(f"{drawing_id}-arrow", _PATH),
        arrow(f"{drawing_id}-arrow-hi", _HIGHLIGHT),
    )
    return f"<defs>{path}{highlight}</defs>"


def facemap_svg(
    steps: Sequence[PlannedStep] = (),
    *,
    highlight_step: int | None = None,
    title: str = "",
    show_muscles: bool = True,
    drawing_id: str = "facemap",
) -> str:
    """SVG text of the face map with each step's probe path, numbered in protocol order.

    ``highlight_step`` (a step's ``index``) draws that step in a strong colour and dims the rest.
    ``drawing_id`` is the SVG's id and the prefix of every id inside it: give each map inlined
    in one page its own.
    """
    if not _ID.fullmatch(drawing_id):
        raise InvalidValue(
            "drawing_id", drawing_id, "letters, digits, - and _, starting with a letter"
        )
    height = MAP_HEIGHT + (24 if title else 0)
    shift = 24 if title else 0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH:g} {height:g}" '
        f'width="{MAP_WIDTH:g}" height="{height:g}" id="{drawing_id}" role="img" '
        f"aria-label={quoteattr(title or 'face map')}>",
        _STYLE,
        _defs(drawing_id),
    ]
    if title:
        out.append(f'<text x="12" y="17" class="fm-title">{escape(title)}</text>')
    out.append(f'<g transform="translate(0,{shift})">')
    out.append(f'<path d="{_SHOULDERS}" class="fm-feature"/>')
    out.append(f'<path d="{_NECK}" class="fm-feature"/>')
    out.append(f'<path d="{_HEAD}" class="fm-skin"/>{_FEATURES}')
    out += _forbidden_layer(drawing_id)
    if show_muscles:
        out += _muscles_layer(drawing_id)
    out.append(f'<g id="{drawing_id}-steps">')
    # the highlighted step is drawn last so that it lies on top
    ordered = sorted(steps, key=lambda s: s.index == highlight_step)
    for step in ordered:
        highlighted = highlight_step is not None and step.index == highlight_step
        dimmed = highlight_step is not None and not highlighted
        out += _step_layer(step, highlighted, dimmed, drawing_id)
    out.append("</g></g></svg>")
    return "\n".join(out)
