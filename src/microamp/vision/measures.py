"""Measures of a face in millimetres, from its landmarks (the Emotrics method).

Every distance is taken in the face's own frame: the origin midway between the iris centres,
x along the interpupillary line (the subject's right iris to their left), y perpendicular to it,
downwards. A photo scaled, turned in its plane or moved therefore gives the same numbers: only
the face changes them. Pixels become millimetres by the iris diameter (11.77 mm on average in
adults, and nearly constant from the teens on) or, when the photo carries one, by a calibration
sticker of known diameter.

Definitions (left and right are the subject's):

- brow height: from the iris centre up to the upper edge of the brow directly above it;
- palpebral fissure: the eye's opening, upper lid to lower lid at mid-eye;
- commissure height: how far the mouth corner sits below the interpupillary line (a corner that
  lifts makes it smaller);
- lower-face width: gonion to gonion (the jaw's angles);
- jawline angle: at the gonion, between the ramus (up to the cheek at ear level) and the body of
  the jaw (forward to the chin); a sharper jawline is a smaller angle;
- jowl depth: how far the jaw contour between gonion and chin bulges out past the straight line
  joining them (0 when the line is straight or hollow);
- symmetry: 100 x (1 - |left - right| / mean), 100 being a perfect match;
- pose: yaw (turned to the subject's left positive), pitch (chin down positive, relative to a
  neutral frontal portrait) and roll (the eye line's tilt, the subject's left eye lower positive).

A photo whose pose is outside its view's tolerance is flagged and is never compared silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from microamp.errors import InvalidValue
from microamp.vision.landmarks import FaceLandmarks

__all__ = [
    "IRIS_DIAMETER_MM",
    "MEASURE_NAMES",
    "PITCH_TOLERANCE_DEG",
    "ROLL_TOLERANCE_DEG",
    "VIEWS",
    "VIEW_YAW_DEG",
    "YAW_TOLERANCE_DEG",
    "Measurement",
    "Pose",
    "check_view",
    "iris_diameter_px",
    "measure",
    "pose_of",
]

IRIS_DIAMETER_MM = 11.77
VIEWS = ("front", "left45", "right45")
# left45: the subject turned to their left, showing their right cheek
VIEW_YAW_DEG = {"front": 0.0, "left45": 45.0, "right45": -45.0}
YAW_TOLERANCE_DEG = 10.0
PITCH_TOLERANCE_DEG = 12.0
ROLL_TOLERANCE_DEG = 8.0
# The forehead-to-chin line of the face mesh leans about 10 degrees out of the image plane in a
# neutral frontal portrait (measured on scikit-image's astronaut): pitch is reported from there.
_PITCH_NEUTRAL_DEG = 10.0
# an iris under this many pixels across puts one pixel near a millimetre: quality falls off
_IRIS_GOOD_PX = 12.0

# face-mesh indices (MediaPipe numbering); "right" is the subject's right, the image's left
_IRIS_RIGHT, _IRIS_LEFT = 468, 473
_IRIS_RIGHT_RING = (469, 470, 471, 472)
_IRIS_LEFT_RING = (474, 475, 476, 477)
_BROW_RIGHT = (70, 63, 105, 66, 107)  # upper edge, outer to inner
_BROW_LEFT = (300, 293, 334, 296, 336)
_LIDS_RIGHT = (159, 145)  # upper, lower at mid-eye
_LIDS_LEFT = (386, 374)
_MOUTH_RIGHT, _MOUTH_LEFT = 61, 291
_CHEEK_RIGHT, _CHEEK_LEFT = 234, 454  # the face's outline at ear level
_GONION_RIGHT, _GONION_LEFT = 172, 397
_JAW_RIGHT = (136, 150, 149, 176, 148)  # gonion to chin, between the two
_JAW_LEFT = (365, 379, 378, 400, 377)
_CHIN, _FOREHEAD, _NOSE_TIP = 152, 10, 1

MEASURE_NAMES = (
    "brow_height_left_mm",
    "brow_height_right_mm",
    "palpebral_fissure_left_mm",
    "palpebral_fissure_right_mm",
    "commissure_height_left_mm",
    "commissure_height_right_mm",
    "lower_face_width_mm",
    "jawline_angle_left_deg",
    "jawline_angle_right_deg",
    "jowl_depth_left_mm",
    "jowl_depth_right_mm",
    "brow_symmetry_pct",
    "palpebral_symmetry_pct",
    "commissure_symmetry_pct",
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Pose:
    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def as_dict(self) -> dict[str, float]:
        return {"yaw_deg": self.yaw_deg, "pitch_deg": self.pitch_deg, "roll_deg": self.roll_deg}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One photo's measures (millimetres, degrees, per cent), pose, quality 0-1, the scale and
    where it came from, and what keeps it from comparison (``flags``; empty when comparable)."""

    view: str
    measures: dict[str, float]
    pose: Pose
    quality: float
    mm_per_px: float
    scale_source: str  # "iris" or "sticker"
    iris_diameter_px: float
    flags: list[str] = field(default_factory=list)
    # the calibration sticker's side in pixels, when one set the scale
    sticker_side_px: float | None = None

    @property
    def comparable(self) -> bool:
        return not self.flags

    def as_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "measures": dict(self.measures),
            "pose": self.pose.as_dict(),
            "quality": self.quality,
            "scale_source": self.scale_source,
            "scale": {
                "source": self.scale_source,
                "mm_per_px": self.mm_per_px,
                "iris_diameter_px": self.iris_diameter_px,
                "sticker_side_px": self.sticker_side_px,
            },
            "comparable": self.comparable,
            "flags": list(self.flags),
        }


def check_view(view: str) -> str:
    if view not in VIEWS:
        raise InvalidValue("view", view, f"must be one of {', '.join(VIEWS)}")
    return view


def iris_diameter_px(xy: FloatArray) -> float:
    """The larger of each iris's two diameters (a turned eye narrows across, not up and down),
    averaged over both eyes."""
    diameters = []
    for a, b, c, d in (_IRIS_RIGHT_RING, _IRIS_LEFT_RING):
        across = float(np.linalg.norm(xy[a] - xy[c]))
        up_down = float(np.linalg.norm(xy[b] - xy[d]))
        diameters.append(max(across, up_down))
    return float(np.mean(diameters))


def _face_frame(xy: FloatArray, mm_per_px: float) -> FloatArray:
    """The points in the face's frame, in millimetres (see the module's docstring)."""
    right, left = xy[_IRIS_RIGHT], xy[_IRIS_LEFT]
    origin = (right + left) / 2
    angle = math.atan2(left[1] - right[1], left[0] - right[0])
    cos, sin = math.cos(-angle), math.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    return np.asarray(((xy - origin) @ rotation.T) * mm_per_px, dtype=np.float64)


def _brow_height(face: FloatArray, iris: int, brow: tuple[int, ...]) -> float:
    points = face[list(brow)]
    order = np.argsort(points[:, 0])
    brow_y = float(np.interp(face[iris, 0], points[order, 0], points[order, 1]))
    return float(face[iris, 1]) - brow_y


def _angle_deg(at: FloatArray, a: FloatArray, b: FloatArray) -> float:
    u, v = a - at, b - at
    cosine = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def _jowl_depth(face: FloatArray, gonion: int, contour: tuple[int, ...]) -> float:
    start, end = face[gonion], face[_CHIN]
    direction = (end - start) / np.linalg.norm(end - start)
    normal = np.array([-direction[1], direction[0]])
    # outward is away from the nose tip
    if np.dot(face[_NOSE_TIP] - start, normal) > 0:
        normal = -normal
    depths = (face[list(contour)] - start) @ normal
    return max(0.0, float(depths.max()))


def _symmetry_pct(left: float, right: float) -> float:
    mean = (abs(left) + abs(right)) / 2
    if mean == 0:
        return 100.0
    return max(0.0, 100.0 * (1 - abs(left - right) / mean))


def pose_of(landmarks: FaceLandmarks) -> Pose:
    """Yaw, pitch and roll in degrees, from the depth the mesh gives each point."""
    p = landmarks.points
    across = p[_CHEEK_LEFT] - p[_CHEEK_RIGHT]
    down = p[_CHIN] - p[_FOREHEAD]
    eyes = p[_IRIS_LEFT] - p[_IRIS_RIGHT]
    yaw = math.degrees(math.atan2(across[2], across[0]))
    pitch = math.degrees(math.atan2(down[2], down[1])) - _PITCH_NEUTRAL_DEG
    roll = math.degrees(math.atan2(eyes[1], eyes[0]))
    return Pose(round(yaw, 1), round(pitch, 1), round(roll, 1))


def _pose_flags(pose: Pose, view: str) -> list[str]:
    flags = []
    target = VIEW_YAW_DEG[view]
    if abs(pose.yaw_deg - target) > YAW_TOLERANCE_DEG:
        flags.append(
            f"yaw {pose.yaw_deg:g} deg is outside the {view} view's "
            f"{target:g} +/- {YAW_TOLERANCE_DEG:g} deg: turn the head, retake"
        )
    if abs(pose.pitch_deg) > PITCH_TOLERANCE_DEG:
        flags.append(
            f"pitch {pose.pitch_deg:g} deg is outside +/- {PITCH_TOLERANCE_DEG:g} deg: "
            "level the chin, retake"
        )
    if abs(pose.roll_deg) > ROLL_TOLERANCE_DEG:
        flags.append(
            f"roll (head tilt) {pose.roll_deg:g} deg is outside +/- {ROLL_TOLERANCE_DEG:g} deg: "
            "straighten the head, retake"
        )
    return flags


def _pose_factor(pose: Pose, view: str) -> float:
    worst = max(
        abs(pose.yaw_deg - VIEW_YAW_DEG[view]) / YAW_TOLERANCE_DEG,
        abs(pose.pitch_deg) / PITCH_TOLERANCE_DEG,
        abs(pose.roll_deg) / ROLL_TOLERANCE_DEG,
    )
    # 1 when square to the camera, 0.5 at the edge of tolerance, 0 at twice the tolerance
    return max(0.0, 1.0 - worst / 2)


def _distances(face: FloatArray) -> dict[str, float]:
    m = {
        "brow_height_left_mm": _brow_height(face, _IRIS_LEFT, _BROW_LEFT),
        "brow_height_right_mm": _brow_height(face, _IRIS_RIGHT, _BROW_RIGHT),
        "palpebral_fissure_left_mm": float(face[_LIDS_LEFT[1], 1] - face[_LIDS_LEFT[0], 1]),
        "palpebral_fissure_right_mm": float(face[_LIDS_RIGHT[1], 1] - face[_LIDS_RIGHT[0], 1]),
        "commissure_height_left_mm": float(face[_MOUTH_LEFT, 1]),
        "commissure_height_right_mm": float(face[_MOUTH_RIGHT, 1]),
        "lower_face_width_mm": float(np.linalg.norm(face[_GONION_LEFT] - face[_GONION_RIGHT])),
        "jawline_angle_left_deg": _angle_deg(face[_GONION_LEFT], face[_CHEEK_LEFT], face[_CHIN]),
        "jawline_angle_right_deg": _angle_deg(face[_GONION_RIGHT], face[_CHEEK_RIGHT], face[_CHIN]),
        "jowl_depth_left_mm": _jowl_depth(face, _GONION_LEFT, _JAW_LEFT),
        "jowl_depth_right_mm": _jowl_depth(face, _GONION_RIGHT, _JAW_RIGHT),
    }
    for pair, stem in (("brow_height", "brow"), ("palpebral_fissure", "palpebral")):
        m[f"{stem}_symmetry_pct"] = _symmetry_pct(m[f"{pair}_left_mm"], m[f"{pair}_right_mm"])
    m["commissure_symmetry_pct"] = _symmetry_pct(
        m["commissure_height_left_mm"], m["commissure_height_right_mm"]
    )
    return {name: round(m[name], 2) for name in MEASURE_NAMES}


def measure(
    landmarks: FaceLandmarks,
    *,
    view: str = "front",
    sticker_mm_per_px: float | None = None,
    sticker_side_px: float | None = None,
    sharpness: float = 1.0,
) -> Measurement:
    """The measures of the face ``landmarks`` describe. ``sticker_mm_per_px``: the scale a
    calibration sticker gave (`microamp.vision.sticker`, its side ``sticker_side_px``), used
    instead of the iris; ``sharpness`` 0-1 (see `microamp.vision.photo`) enters the quality
    score."""
    check_view(view)
    xy = landmarks.xy()
    iris_px = iris_diameter_px(xy)
    if sticker_mm_per_px is not None:
        mm_per_px, source = sticker_mm_per_px, "sticker"
    else:
        mm_per_px, source = IRIS_DIAMETER_MM / iris_px, "iris"
    pose = pose_of(landmarks)
    resolution = min(1.0, iris_px / _IRIS_GOOD_PX)
    quality = _pose_factor(pose, view) * resolution * max(0.0, min(1.0, sharpness))
    return Measurement(
        view=view,
        measures=_distances(_face_frame(xy, mm_per_px)),
        pose=pose,
        quality=round(quality, 3),
        mm_per_px=round(mm_per_px, 5),
        scale_source=source,
        iris_diameter_px=round(iris_px, 2),
        flags=_pose_flags(pose, view),
        sticker_side_px=None if sticker_side_px is None else round(sticker_side_px, 2),
    )
