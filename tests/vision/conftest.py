"""What the vision tests share: scikit-image's astronaut upscaled to 1024 px, measured once per
run (the landmark model is the slow part), with the landmarks it gave."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PIL import Image

from microamp.vision.landmarks import FaceLandmarks, vision_available
from microamp.vision.measures import Measurement
from support import faces


@dataclass(frozen=True)
class Measured:
    image: Image.Image
    measurement: Measurement
    landmarks: FaceLandmarks


@pytest.fixture(scope="session")
def astronaut() -> Measured:
    if not vision_available():
        pytest.skip("the landmark model (microamp[vision]) is not installed")
    from microamp.vision.photo import measure_image

    image = faces.astronaut()
    measurement, landmarks = measure_image(image)
    return Measured(image, measurement, landmarks)
