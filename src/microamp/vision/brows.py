"""The brows' upper edge found in the pixels, near where the face mesh puts it.

The mesh is a regression from a 192 px crop of the face, and it holds the brows to a usual
face's shape: a brow raised by a known warp of 4 / 8 / 16 px moves its landmarks by only about
70 / 55 / 35 % of that (measured on scikit-image's astronaut; the warp itself moves the brow
points by 75-100 % of its nominal lift, less at the brow's ends), so a real lift would be
under-read. The brow is darker than the forehead above it, so each upper-brow landmark is moved,
straight up or down in the image, to the strongest light-to-dark step within
`SEARCH_IRIS_FRACTION` of an iris diameter of where the mesh put it. The mesh still says which
column and roughly where; the pixels say exactly where. A step too faint to trust (very fair
brows, a blurred photo) leaves the mesh's point as it was.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from microamp.vision.landmarks import FaceLandmarks

__all__ = ["BROW_UPPER_LEFT", "BROW_UPPER_RIGHT", "SEARCH_IRIS_FRACTION", "refine_brows"]

# face-mesh indices of the brows' upper edge, outer to inner (the subject's right, then left)
BROW_UPPER_RIGHT = (70, 63, 105, 66, 107)
BROW_UPPER_LEFT = (300, 293, 334, 296, 336)
# how far from the mesh's point the edge is looked for: 0.4 of an iris, about 4.7 mm. Farther
# reaches the hairline above or the lid crease below.
SEARCH_IRIS_FRACTION = 0.4
# the step must fall by this many grey levels per pixel to count as the brow's edge
_MIN_STEP_PER_PX = 2.0
_HALF_WIDTH_PX = 2  # columns averaged either side of the landmark: one hair does not decide
_STEP_PX = 0.25


def _column_profile(
    grey: npt.NDArray[np.float64], x: float, ys: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    column = int(round(x))
    lo, hi = max(0, column - _HALF_WIDTH_PX), min(grey.shape[1], column + _HALF_WIDTH_PX + 1)
    mean_column = grey[:, lo:hi].mean(axis=1)
    profile = np.interp(ys, np.arange(len(mean_column), dtype=np.float64), mean_column)
    return np.asarray(profile, dtype=np.float64)


def _edge_y(grey: npt.NDArray[np.float64], x: float, y: float, span_px: float) -> float | None:
    """The y (in ``grey``'s rows) of the strongest light-above, dark-below step within
    ``span_px`` of ``y`` in the column at ``x``, or None when there is none worth trusting."""
    if not 0 <= x < grey.shape[1]:
        return None
    ys = np.arange(max(0.0, y - span_px), min(grey.shape[0] - 1.0, y + span_px), _STEP_PX)
    if len(ys) < 5:
        return None
    falls = -np.gradient(_column_profile(grey, x, ys)) / _STEP_PX  # grey lost per px downwards
    at = int(np.argmax(falls))
    if falls[at] < _MIN_STEP_PER_PX:
        return None
    return float(ys[at])


def refine_brows(image: Image.Image, landmarks: FaceLandmarks, iris_px: float) -> FaceLandmarks:
    """``landmarks`` with the brows' upper-edge points moved to the edge in ``image``'s pixels
    (see the module's docstring); every other point as it was."""
    points = landmarks.points.copy()
    indices = list(BROW_UPPER_RIGHT + BROW_UPPER_LEFT)
    span_px = SEARCH_IRIS_FRACTION * iris_px
    margin = span_px + 4
    brows = points[indices, :2]
    left, top = np.floor(brows.min(axis=0) - margin).astype(int)
    right, bottom = np.ceil(brows.max(axis=0) + margin).astype(int)
    box = (max(0, int(left)), max(0, int(top)), min(image.width, int(right)),
           min(image.height, int(bottom)))  # fmt: skip
    if box[2] - box[0] < 3 or box[3] - box[1] < 3:
        return landmarks
    patch = image.crop(box).convert("L").filter(ImageFilter.GaussianBlur(1))
    grey = np.asarray(patch, dtype=np.float64)
    for index in indices:
        x, y = points[index, 0] - box[0], points[index, 1] - box[1]
        edge = _edge_y(grey, float(x), float(y), span_px)
        if edge is not None:
            points[index, 1] = edge + box[1]
    return FaceLandmarks(points=points, width_px=landmarks.width_px, height_px=landmarks.height_px)
