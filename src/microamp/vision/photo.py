"""A photo measured: its pixels through the landmark model, the brows' upper edge found again
in the pixels (`microamp.vision.brows`), then `measure`, scaled by the calibration sticker when
the photo shows one (`microamp.vision.sticker`), else by the iris.

Called at upload (in the web app's thread pool, never on its event loop) and by
``microamp photos measure``; the result is stored, so a photo is measured once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

from microamp.errors import NoFace
from microamp.vision.brows import refine_brows
from microamp.vision.landmarks import FaceLandmarks, LandmarkModel, load_model
from microamp.vision.measures import Measurement, iris_diameter_px, measure
from microamp.vision.sticker import find_sticker

__all__ = ["NO_FACE", "landmarks_of", "measure_image", "sharpness_of"]

NO_FACE = "no face found in the photo: the whole face, front-on and evenly lit, must be in frame"
# the variance of the Laplacian over the face at which a photo counts as fully sharp
_SHARP_VARIANCE = 60.0


def _rgb(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def landmarks_of(image: Image.Image, model: LandmarkModel | None = None) -> FaceLandmarks:
    """The face's landmarks in ``image``'s pixels. Raises `NoFace`, or `VisionUnavailable`
    without ``microamp[vision]``."""
    found = (model or load_model()).find(_rgb(image))
    if found is None:
        raise NoFace(NO_FACE)
    return found


def sharpness_of(image: Image.Image, landmarks: FaceLandmarks) -> float:
    """0-1: the variance of the Laplacian of the grey face region, against a sharp photo's."""
    xy = landmarks.xy()
    left, top = np.floor(xy.min(axis=0)).astype(int)
    right, bottom = np.ceil(xy.max(axis=0)).astype(int)
    box = (max(0, left), max(0, top), min(image.width, right), min(image.height, bottom))
    if box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return 0.0
    grey = np.asarray(image.crop(box).convert("L"), dtype=np.float64)
    # the face at about 256 px across, so the score does not depend on the photo's resolution
    step = max(1, (box[2] - box[0]) // 256)
    grey = grey[::step, ::step]
    laplacian = (
        -4 * grey[1:-1, 1:-1] + grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:]
    )
    return float(min(1.0, laplacian.var() / _SHARP_VARIANCE))


def measure_image(
    image: Image.Image,
    *,
    view: str = "front",
    model: LandmarkModel | None = None,
    sticker_mm_per_px: float | None = None,
) -> tuple[Measurement, FaceLandmarks]:
    """``image`` measured, and the landmarks the measures came from. The scale is
    ``sticker_mm_per_px`` when given, else the calibration sticker's when the photo shows one,
    else the iris's."""
    rgb = _rgb(image)
    landmarks = landmarks_of(image, model)
    landmarks = refine_brows(image, landmarks, iris_diameter_px(landmarks.xy()))
    side_px: float | None = None
    if sticker_mm_per_px is None:
        sticker = find_sticker(rgb)
        if sticker is not None:
            sticker_mm_per_px, side_px = sticker.mm_per_px, sticker.side_px
    measurement = measure(
        landmarks,
        view=view,
        sticker_mm_per_px=sticker_mm_per_px,
        sticker_side_px=side_px,
        sharpness=sharpness_of(image, landmarks),
    )
    return measurement, landmarks
