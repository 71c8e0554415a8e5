"""The calibration sticker: a printed ArUco marker of known size worn on the forehead, which,
when a photo shows it, sets the millimetre scale instead of the iris.

The sticker is marker 0 of OpenCV's 4 x 4 dictionary (``DICT_4X4_50``): a black square
`STICKER_SIDE_MM` across, six modules of 3 mm (a black border module around a 4 x 4 pattern),
on a white margin of at least one module. The app serves it to print at true size
(`sticker_svg`, ``/outcomes/sticker.svg``); docs/measuring-results.md says how to print and
check it. OpenCV arrives with the landmark model (``microamp[vision]``); without it no sticker
is looked for.

OpenCV puts a marker's corners on the centres of its outermost dark pixels, half a pixel
inside each edge: a 25 px marker reads 3 % small. Each outer edge is therefore found again to
a fraction of a pixel where the grey level crosses halfway from the black border to the white
margin, and the corners are where those edge lines meet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "STICKER_BITS",
    "STICKER_MARKER_ID",
    "STICKER_SIDE_MM",
    "Sticker",
    "find_sticker",
    "sticker_svg",
]

STICKER_SIDE_MM = 18.0
STICKER_MARKER_ID = 0
_MODULES = 6  # the 4 x 4 pattern inside a one-module black border
_MARGIN_MODULES = 1
# marker 0 of DICT_4X4_50, 1 white, inside the border (tests check it against OpenCV's own)
STICKER_BITS = ((1, 0, 1, 1), (0, 1, 0, 1), (0, 0, 1, 1), (0, 0, 1, 0))
# under this a module is under 3 px and the marker is not read reliably
_MIN_SIDE_PX = 18.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Sticker:
    """A sticker found: its corners (4 x 2, image pixels, clockwise from the marker's own top
    left), its side in pixels (the longer of its two pairs of opposite sides: a turned sticker
    narrows one way only) and the scale that gives."""

    corners_px: FloatArray
    side_px: float

    @property
    def mm_per_px(self) -> float:
        return STICKER_SIDE_MM / self.side_px


def _bilinear(grey: npt.NDArray[np.uint8], x: FloatArray, y: FloatArray) -> FloatArray:
    height, width = grey.shape
    x = np.clip(x, 0, width - 1.001)
    y = np.clip(y, 0, height - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0

    def at(rows: npt.NDArray[np.int_], cols: npt.NDArray[np.int_]) -> FloatArray:
        return np.asarray(grey[rows, cols], dtype=np.float64)  # only the points sampled

    top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
    bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
    return np.asarray(top * (1 - fy) + bottom * fy, dtype=np.float64)


def _edge_line(
    grey: npt.NDArray[np.uint8], a: FloatArray, b: FloatArray, outward: FloatArray, module: float
) -> tuple[FloatArray, FloatArray] | None:
    """A point on the edge from ``a`` to ``b`` and its direction, fitted through where each
    profile across it (black border inside, white margin outside) crosses the halfway grey."""
    offsets = np.linspace(-0.6 * module, 0.9 * module, 31)
    found = []
    for t in np.linspace(0.2, 0.8, 13):  # clear of the corners, where two edges blur together
        base = a + t * (b - a)
        xs, ys = base[0] + offsets * outward[0], base[1] + offsets * outward[1]
        profile = _bilinear(grey, xs, ys)
        dark, light = profile[:4].mean(), profile[-4:].mean()
        if light - dark < 20:  # no contrast here (a highlight, a hair): skip the profile
            continue
        above = np.nonzero(profile >= (dark + light) / 2)[0]
        if not len(above) or above[0] == 0:
            continue
        i = above[0]
        half = (dark + light) / 2
        share = (half - profile[i - 1]) / (profile[i] - profile[i - 1])
        crossing = offsets[i - 1] + share * (offsets[i] - offsets[i - 1])
        found.append(base + crossing * outward)
    if len(found) < 4:
        return None
    points = np.array(found)
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre)
    return centre, np.asarray(vt[0], dtype=np.float64)


def _meet(
    first: tuple[FloatArray, FloatArray], second: tuple[FloatArray, FloatArray]
) -> FloatArray:
    (p, u), (q, v) = first, second
    t = np.linalg.solve(np.column_stack([u, -v]), q - p)
    return np.asarray(p + t[0] * u, dtype=np.float64)


def _refined(grey: npt.NDArray[np.uint8], corners: FloatArray) -> FloatArray:
    """The corners again, from the four outer edges found to a fraction of a pixel; OpenCV's
    own where an edge cannot be found (then the scale is a little small, not wrong)."""
    centre = corners.mean(axis=0)
    side = float(np.mean(np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)))
    # OpenCV's corners sit half a pixel inside: start from there, moved out by that half
    grown = centre + (corners - centre) * (1 + 1 / max(side, 1.0))
    lines = []
    for k in range(4):
        a, b = grown[k], grown[(k + 1) % 4]
        middle = (a + b) / 2
        outward = middle - centre
        along = (b - a) / np.linalg.norm(b - a)
        outward = outward - np.dot(outward, along) * along
        line = _edge_line(grey, a, b, outward / np.linalg.norm(outward), side / _MODULES)
        if line is None:
            return corners
        lines.append(line)
    # corner k is where edge k-1 (ending there) meets edge k (starting there)
    return np.array([_meet(lines[k - 1], lines[k]) for k in range(4)])


def _side_px(corners: FloatArray) -> float:
    edges = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    return float(max((edges[0] + edges[2]) / 2, (edges[1] + edges[3]) / 2))


def find_sticker(rgb: npt.NDArray[np.uint8]) -> Sticker | None:
    """The calibration sticker in ``rgb`` (H x W x 3), or None: none in view, too small to
    read, or OpenCV not installed."""
    try:
        import cv2
    except ImportError:
        return None
    grey: npt.NDArray[np.uint8] = np.asarray(
        cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY), dtype=np.uint8
    )
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), parameters
    )
    corners, ids, _rejected = detector.detectMarkers(grey)
    if ids is None:
        return None
    for quad, marker_id in zip(corners, ids.ravel(), strict=True):
        if int(marker_id) != STICKER_MARKER_ID:
            continue
        found = np.asarray(quad[0], dtype=np.float64)
        if _side_px(found) < _MIN_SIDE_PX:
            continue
        refined = _refined(grey, found)
        return Sticker(corners_px=refined, side_px=_side_px(refined))
    return None


def sticker_svg() -> str:
    """The sticker at true size (millimetres in the SVG's own units), with its cut line and
    its size printed beside it, to print at 100 % and check with a ruler."""
    module = STICKER_SIDE_MM / _MODULES
    margin = module * _MARGIN_MODULES
    cut = STICKER_SIDE_MM + 2 * margin
    width, height = cut + 2, cut + 12
    cells = []
    for row, bits in enumerate(STICKER_BITS):
        for column, bit in enumerate(bits):
            if bit:
                x, y = 1 + margin + (column + 1) * module, 1 + margin + (row + 1) * module
                cells.append(f'<rect x="{x:g}" y="{y:g}" width="{module:g}" height="{module:g}"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" aria-labelledby="sticker-title">'
        f'<title id="sticker-title">microamp calibration sticker: ArUco 4x4 marker '
        f"{STICKER_MARKER_ID}, {STICKER_SIDE_MM:g} mm black square</title>"
        f'<rect x="1" y="1" width="{cut:g}" height="{cut:g}" fill="#fff" stroke="#999" '
        f'stroke-width="0.2" stroke-dasharray="1 1"/>'
        f'<rect x="{1 + margin:g}" y="{1 + margin:g}" width="{STICKER_SIDE_MM:g}" '
        f'height="{STICKER_SIDE_MM:g}" fill="#000"/>'
        f'<g fill="#fff">{"".join(cells)}</g>'
        f'<text x="1" y="{cut + 5:g}" font-family="sans-serif" font-size="3">'
        f"black square: {STICKER_SIDE_MM:g} mm; print at 100 %</text>"
        f'<text x="1" y="{cut + 9.5:g}" font-family="sans-serif" font-size="2.5">'
        "cut on the dashed line</text></svg>"
    )
