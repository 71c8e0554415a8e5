"""`microamp photos measure FILE`: measures, pose and quality as JSON; exit 1 with no face, 2
for a file that is not an image. Run as a real process, as a person would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import faces
from vision.conftest import Measured

pytest.importorskip("mediapipe")

REQUIRED = (
    "brow_height_left_mm", "brow_height_right_mm", "commissure_height_left_mm",
    "commissure_height_right_mm", "palpebral_fissure_left_mm", "palpebral_fissure_right_mm",
    "lower_face_width_mm",
)  # fmt: skip


def _microamp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microamp", *args], capture_output=True, text=True, timeout=120
    )


def test_a_face_photo_prints_its_measures_pose_and_quality(tmp_path: Path) -> None:
    photo = tmp_path / "front.jpg"
    photo.write_bytes(faces.jpeg(faces.astronaut()))
    done = _microamp("photos", "measure", str(photo), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    for name in REQUIRED:
        assert isinstance(document["measures"][name], float), name
    assert set(document["pose"]) == {"yaw_deg", "pitch_deg", "roll_deg"}
    assert 0 < document["quality"] <= 1
    assert document["comparable"] is True


def test_a_photo_showing_the_sticker_says_it_set_the_scale(
    tmp_path: Path, astronaut: Measured
) -> None:
    from microamp.vision.sticker import STICKER_SIDE_MM

    side_px = STICKER_SIDE_MM / astronaut.measurement.mm_per_px
    photo = tmp_path / "front.png"
    faces.wearing_sticker(astronaut.image, astronaut.landmarks, side_px=side_px).save(photo)
    done = _microamp("photos", "measure", str(photo), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["scale_source"] == "sticker"
    assert document["scale"]["mm_per_px"] == pytest.approx(
        astronaut.measurement.mm_per_px, rel=0.03
    )
    table = _microamp("photos", "measure", str(photo))
    assert "scaled by the sticker" in table.stdout


def test_a_photo_with_no_face_exits_1_with_one_clear_line(tmp_path: Path) -> None:
    photo = tmp_path / "cup.jpg"
    photo.write_bytes(faces.jpeg(faces.no_face()))
    done = _microamp("photos", "measure", str(photo), "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"error: {photo}: {_no_face_text()}"]


def test_a_file_that_is_not_an_image_exits_2(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo at all")
    done = _microamp("photos", "measure", str(notes), "--json")
    assert done.returncode == 2
    assert "must be a JPEG or PNG image" in done.stderr
    assert "Traceback" not in done.stderr


def _no_face_text() -> str:
    from microamp.vision.photo import NO_FACE

    return NO_FACE
