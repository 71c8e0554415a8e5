"""The calibration sticker: found in a real face photograph (scikit-image's astronaut with the
sticker drawn on her forehead at a known size), it sets the scale instead of the iris; printed
at its true size it gives the iris's millimetres, printed wrong it moves every millimetre by
exactly the error; the printable SVG is a marker that is found at its stated size."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from microamp.vision.photo import measure_image
from microamp.vision.sticker import (
    STICKER_BITS,
    STICKER_MARKER_ID,
    STICKER_SIDE_MM,
    find_sticker,
    sticker_svg,
)
from support import faces
from vision.conftest import Measured

cv2 = pytest.importorskip("cv2")

# millimetre measures of the face: a sticker on the forehead leaves the landmarks nearly where
# they were, so the iris-scaled and sticker-scaled readings agree within the framing tolerance
MM_MEASURES = {
    "brow_height_left_mm": 1.5,
    "brow_height_right_mm": 1.5,
    "palpebral_fissure_left_mm": 1.0,
    "palpebral_fissure_right_mm": 1.0,
    "commissure_height_left_mm": 2.0,
    "commissure_height_right_mm": 2.0,
    "lower_face_width_mm": 3.0,
}


def _stickered(
    astronaut: Measured, printed_at: float, bits: tuple[tuple[int, ...], ...] = STICKER_BITS
) -> Image.Image:
    """The astronaut wearing a sticker printed at ``printed_at`` times its true size: its
    true size in her pixels is `STICKER_SIDE_MM` on the iris's scale."""
    side_px = STICKER_SIDE_MM / astronaut.measurement.mm_per_px * printed_at
    return faces.wearing_sticker(astronaut.image, astronaut.landmarks, side_px=side_px, bits=bits)


def test_the_sticker_pattern_is_opencvs_marker() -> None:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    marker = cv2.aruco.generateImageMarker(dictionary, STICKER_MARKER_ID, 6) // 255
    assert marker[1:5, 1:5].tolist() == [list(row) for row in STICKER_BITS]
    assert marker[0].sum() == marker[-1].sum() == marker[:, 0].sum() == 0  # the black border


def test_a_sticker_at_its_true_size_gives_the_iris_millimetres(astronaut: Measured) -> None:
    iris = astronaut.measurement
    stickered, _ = measure_image(_stickered(astronaut, printed_at=1.0))
    assert stickered.scale_source == "sticker"
    assert stickered.as_dict()["scale_source"] == "sticker"
    assert stickered.sticker_side_px == pytest.approx(STICKER_SIDE_MM / iris.mm_per_px, rel=0.02)
    assert stickered.mm_per_px == pytest.approx(iris.mm_per_px, rel=0.02)
    for name, tolerance in MM_MEASURES.items():
        assert stickered.measures[name] == pytest.approx(iris.measures[name], abs=tolerance), name


@pytest.mark.parametrize("printed_at", [0.8, 1.25])
def test_a_wrongly_sized_sticker_scales_every_millimetre_by_its_error(
    astronaut: Measured, printed_at: float
) -> None:
    """Printed at 80 %, the sticker says each pixel is 1 / 0.8 as many millimetres: the face
    reads 25 % larger. The scale follows the sticker, never second-guessed by the iris."""
    iris = astronaut.measurement
    stickered, _ = measure_image(_stickered(astronaut, printed_at=printed_at))
    assert stickered.scale_source == "sticker"
    assert stickered.mm_per_px == pytest.approx(iris.mm_per_px / printed_at, rel=0.02)
    width = stickered.measures["lower_face_width_mm"]
    assert width == pytest.approx(iris.measures["lower_face_width_mm"] / printed_at, rel=0.04)


def test_a_photo_without_the_sticker_is_scaled_by_the_iris(astronaut: Measured) -> None:
    assert astronaut.measurement.scale_source == "iris"
    assert astronaut.measurement.sticker_side_px is None


def test_another_marker_is_not_taken_for_the_sticker(astronaut: Measured) -> None:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    marker_1 = cv2.aruco.generateImageMarker(dictionary, 1, 6)[1:5, 1:5] // 255
    photo = np.asarray(_stickered(astronaut, 1.0, tuple(map(tuple, marker_1.tolist()))))
    _corners, ids, _ = cv2.aruco.ArucoDetector(dictionary).detectMarkers(photo)
    assert ids is not None and ids.ravel().tolist() == [1]  # in view, and readable
    assert find_sticker(photo) is None
    measured, _ = measure_image(Image.fromarray(photo))
    assert measured.scale_source == "iris"


def test_a_sticker_turned_with_the_photo_is_read_at_the_same_size(astronaut: Measured) -> None:
    upright = find_sticker(np.asarray(_stickered(astronaut, printed_at=1.0)))
    turned = find_sticker(
        np.asarray(faces.similar(_stickered(astronaut, 1.0), scale=1.0, rotation_deg=12,
                                 shift_px=(0, 0)))
    )  # fmt: skip
    assert upright is not None and turned is not None
    assert turned.side_px == pytest.approx(upright.side_px, rel=0.02)


def _rasterised(svg: str, px_per_mm: float) -> Image.Image:
    """The SVG's rectangles drawn at ``px_per_mm`` (it is rectangles only, by design)."""
    width_mm = float(re.search(r'width="([\d.]+)mm"', svg).group(1))  # type: ignore[union-attr]
    height_mm = float(re.search(r'height="([\d.]+)mm"', svg).group(1))  # type: ignore[union-attr]
    image = Image.new("RGB", (round(width_mm * px_per_mm), round(height_mm * px_per_mm)), "white")
    draw = ImageDraw.Draw(image)
    fill = "white"
    for tag in re.finditer(r"<(g|rect)\b([^>]*)>", svg):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(2)))
        if tag.group(1) == "g":
            fill = attributes.get("fill", fill)
            continue
        x, y = float(attributes["x"]) * px_per_mm, float(attributes["y"]) * px_per_mm
        w, h = float(attributes["width"]) * px_per_mm, float(attributes["height"]) * px_per_mm
        colour = {"#000": "black", "#fff": "white"}.get(attributes.get("fill", fill), fill)
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=colour)
    return image


def test_the_printable_sticker_is_found_at_its_stated_size() -> None:
    svg = sticker_svg()
    assert f"{STICKER_SIDE_MM:g} mm" in svg and "print at 100 %" in svg
    found = find_sticker(np.asarray(_rasterised(svg, px_per_mm=10)))
    assert found is not None
    assert found.side_px == pytest.approx(STICKER_SIDE_MM * 10, rel=0.01)
