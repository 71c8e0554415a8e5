"""Measured results through the one upload path: a photo with a view is measured at upload
and its measures come back from the API; the outcomes set each measure beside the sessions and
charge delivered before it, with the repeat-photo error; the CLI prints the same."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from microamp.store.session_models import TreatmentSession
from support import faces
from web.conftest import Clinic

pytest.importorskip("mediapipe")

TODAY = date.today()


def _upload(
    clinic: Clinic, content: bytes, taken_on: date, view: str | None = "front"
) -> httpx.Response:
    data = {"taken_on": taken_on.isoformat(), "lighting_notes": "window light, left",
            "photo_use_consent": "true"}  # fmt: skip
    if view is not None:
        data["view"] = view
    with clinic.api("practitioner") as api:
        return api.post(
            f"/api/v1/clients/{clinic.clients['blocked']}/photos",
            data=data,
            files={"photo": ("face.jpg", content, "image/jpeg")},
        )


@pytest.fixture(scope="module")
def history(clinic: Clinic) -> dict[str, int]:
    """Two repeat front photos 20 days ago, one session 10 days ago with charge on two zones,
    then a photo today with the right brow raised by 8 px."""
    image = faces.astronaut()
    from microamp.vision.photo import measure_image

    _, landmarks = measure_image(image)
    first = _upload(clinic, faces.jpeg(image), TODAY - timedelta(days=20))
    repeat = _upload(
        clinic, faces.jpeg(faces.similar(image, scale=0.9, rotation_deg=3, shift_px=(10, 5))),
        TODAY - timedelta(days=20),
    )  # fmt: skip
    with clinic.store.transaction() as db:
        db.add(TreatmentSession(
            client_id=clinic.clients["blocked"], protocol_name="pro-express", status="completed",
            started_at=datetime.now(UTC) - timedelta(days=10),
            dose_by_zone={"forehead": {"zone": "forehead", "charge_uc": 1200.0},
                          "jawline": {"zone": "jawline", "charge_uc": 800.5}},
        ))  # fmt: skip
    raised = _upload(
        clinic, faces.jpeg(faces.raise_brow(image, landmarks, side="right", lift_px=8)), TODAY
    )
    for response in (first, repeat, raised):
        assert response.status_code == 201, response.text
    return {
        "first": first.json()["id"],
        "repeat": repeat.json()["id"],
        "raised": raised.json()["id"],
    }


def test_a_photo_with_a_view_is_measured_at_upload(clinic: Clinic, history: dict[str, int]) -> None:
    with clinic.api("practitioner") as api:
        listed = api.get(f"/api/v1/clients/{clinic.clients['blocked']}/photos")
    assert listed.status_code == 200
    by_id = {p["id"]: p for p in listed.json()}
    first = by_id[history["first"]]
    assert first["view"] == "front"
    assert first["lighting_notes"] == "window light, left"
    assert first["photo_use_consent"] is True
    assert first["comparable"] is True and first["flags"] == []
    assert 12 < first["measures"]["brow_height_right_mm"] < 30
    assert set(first["pose"]) == {"yaw_deg", "pitch_deg", "roll_deg"}


def test_the_outcomes_set_each_measure_beside_the_dose_before_it(
    clinic: Clinic, history: dict[str, int]
) -> None:
    with clinic.api("practitioner") as api:
        response = api.get(f"/api/v1/clients/{clinic.clients['blocked']}/outcomes")
    assert response.status_code == 200
    outcomes = response.json()
    assert outcomes["zones"] == ["forehead", "jawline"]
    assert outcomes["error_source"].startswith("repeat photos: 1 day(s)")
    photos = {p["entry_id"]: p for p in outcomes["photos"]}
    assert photos[history["first"]]["sessions_before"] == 0
    assert photos[history["raised"]]["sessions_before"] == 1
    assert photos[history["raised"]]["charge_uc_before"] == {"forehead": 1200.0, "jawline": 800.5}
    trends = {t["name"]: t for t in outcomes["measures"]}
    brow = trends["brow_height_right_mm"]
    assert brow["change"] == pytest.approx(brow["latest"] - brow["baseline"], abs=0.02)
    assert brow["change"] > 0
    # a change inside the repeat spread says so; one beyond it names its direction
    for trend in trends.values():
        if abs(trend["change"]) <= trend["error"]:
            assert trend["verdict"].startswith("no measurable change")
        else:
            assert trend["verdict"].startswith(("up ", "down "))


def test_a_photo_without_a_face_is_kept_and_says_why_it_is_unmeasured(clinic: Clinic) -> None:
    response = _upload(clinic, faces.jpeg(faces.no_face()), TODAY, view="left45")
    assert response.status_code == 201
    body = response.json()
    assert body["measures"] is None
    assert "no face found" in body["unmeasured"]


def test_an_unknown_view_is_422_naming_view(clinic: Clinic) -> None:
    response = _upload(clinic, faces.jpeg(faces.astronaut(1)), TODAY, view="profile")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "view"]


def test_the_cli_prints_the_same_outcomes(clinic: Clinic, history: dict[str, int]) -> None:
    url = clinic.store.engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "microamp", "outcomes", str(clinic.clients["blocked"]),
         "--database", url, "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [p["entry_id"] for p in document["photos"]][:3] == [
        history["first"],
        history["repeat"],
        history["raised"],
    ]
    missing = subprocess.run(
        [sys.executable, "-m", "microamp", "outcomes", "999999", "--database", url, "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
