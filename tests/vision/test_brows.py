"""The brows' upper edge found in the pixels: only the upper-brow points move, never farther
than the search window, and where the pixels show no edge the mesh's points stay."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from microamp.vision.brows import (
    BROW_UPPER_LEFT,
    BROW_UPPER_RIGHT,
    SEARCH_IRIS_FRACTION,
    refine_brows,
)
from microamp.vision.measures import iris_diameter_px, measure
from vision.conftest import Measured

BROWS = list(BROW_UPPER_RIGHT + BROW_UPPER_LEFT)


def test_only_the_upper_brow_points_move_and_only_up_or_down_within_the_window(
    astronaut: Measured,
) -> None:
    # the stored landmarks are refined already: start again from them moved 3 px down
    landmarks = astronaut.landmarks
    iris_px = iris_diameter_px(landmarks.xy())
    lowered = landmarks.points.copy()
    lowered[BROWS, 1] += 3.0
    moved = refine_brows(astronaut.image, type(landmarks)(lowered, landmarks.width_px,
                                                          landmarks.height_px), iris_px)  # fmt: skip
    others = [i for i in range(len(lowered)) if i not in BROWS]
    assert np.array_equal(moved.points[others], lowered[others])
    assert np.array_equal(moved.points[BROWS, 0], lowered[BROWS, 0])
    shift = np.abs(moved.points[BROWS, 1] - lowered[BROWS, 1])
    assert shift.max() <= SEARCH_IRIS_FRACTION * iris_px + 1e-9
    # the edge is found again, back within a pixel of where it was found before, by the points
    # brow height is read between; the brow's inner end (a fainter edge) may take another step
    back = np.abs(moved.points[BROWS, 1] - landmarks.points[BROWS, 1]) < 1.0
    assert back.sum() >= 8
    again, before = measure(moved).measures, astronaut.measurement.measures
    for name in ("brow_height_right_mm", "brow_height_left_mm"):
        assert again[name] == pytest.approx(before[name], abs=0.3), name


def test_where_the_pixels_show_no_edge_the_mesh_points_stay(astronaut: Measured) -> None:
    landmarks = astronaut.landmarks
    smeared = astronaut.image.filter(ImageFilter.BoxBlur(40))  # no step of 2 grey levels a px
    flat = Image.new("RGB", astronaut.image.size, (180, 150, 130))
    for image in (smeared, flat):
        kept = refine_brows(image, landmarks, iris_diameter_px(landmarks.xy()))
        assert np.array_equal(kept.points, landmarks.points)
