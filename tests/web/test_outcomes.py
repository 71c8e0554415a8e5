"""Measured results through the one upload path: a photo with a view is measured at upload
and its measures come back from the API; the outcomes set each measure beside the sessions and
charge delivered before it, with the repeat-photo error; the CLI prints the same."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _page(clinic: Clinic, role: str = "practitioner") -> Iterator[httpx.Client]:
    browser = clinic.browser_client(role)
    try:
        yield browser
    finally:
        browser.close()


def test_the_outcome_page_shows_each_measure_with_its_verdict_and_the_dose(
    clinic: Clinic, history: dict[str, int]
) -> None:
    with _page(clinic) as browser:
        response = browser.get(f"/clients/{clinic.clients['blocked']}/outcomes")
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="trends"' in html and "Brow height, right (mm)" in html
    assert "repeat photos: 1 day(s)" in html
    assert html.count('<svg class="measure-chart"') == 14
    assert "forehead µC before" in html and "1,200.0" in html


def test_the_outcomes_export_as_csv_one_row_per_photo(
    clinic: Clinic, history: dict[str, int]
) -> None:
    with _page(clinic) as browser:
        response = browser.get(f"/clients/{clinic.clients['blocked']}/outcomes.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    header = lines[0].split(",")
    assert header[:7] == [
        "entry_id",
        "taken_on",
        "view",
        "comparable",
        "quality",
        "scale_source",
        "sessions_before",
    ]
    assert "charge_uc_before_forehead" in header and "brow_height_right_mm" in header
    rows = {int(line.split(",")[0]): line.split(",") for line in lines[1:]}
    raised = rows[history["raised"]]
    assert raised[header.index("scale_source")] == "iris"
    assert raised[header.index("sessions_before")] == "1"
    assert float(raised[header.index("charge_uc_before_jawline")]) == 800.5


def test_a_photo_showing_the_sticker_is_scaled_by_it_in_the_api_page_and_csv(
    clinic: Clinic,
) -> None:
    from microamp.vision.photo import measure_image
    from microamp.vision.sticker import STICKER_SIDE_MM

    image = faces.astronaut()
    iris, landmarks = measure_image(image)
    side_px = STICKER_SIDE_MM / iris.mm_per_px
    stickered = faces.jpeg(faces.wearing_sticker(image, landmarks, side_px=side_px))
    client_id = clinic.clients["cleared"]
    with clinic.api("practitioner") as api:
        uploaded = api.post(
            f"/api/v1/clients/{client_id}/photos",
            data={"taken_on": TODAY.isoformat(), "view": "right45", "photo_use_consent": "true"},
            files={"photo": ("face.jpg", stickered, "image/jpeg")},
        )
        listed = api.get(f"/api/v1/clients/{client_id}/outcomes", params={"view": "right45"})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["scale_source"] == "sticker"
    assert uploaded.json()["mm_per_px"] == pytest.approx(iris.mm_per_px, rel=0.03)
    assert [p["scale_source"] for p in listed.json()["photos"]] == ["sticker"]
    with _page(clinic) as browser:
        html = browser.get(f"/clients/{client_id}/outcomes?view=right45").text
        csv = browser.get(f"/clients/{client_id}/outcomes.csv?view=right45").text
    assert '<td data-testid="scale-source">sticker</td>' in html
    header, row = (line.split(",") for line in csv.splitlines()[:2])
    assert row[header.index("scale_source")] == "sticker"


def test_reception_sees_no_outcomes(clinic: Clinic) -> None:
    with _page(clinic, "reception") as browser:
        assert browser.get(f"/clients/{clinic.clients['blocked']}/outcomes").status_code == 403


def test_a_photo_is_registered_to_the_first_before_comparison(
    clinic: Clinic, history: dict[str, int]
) -> None:
    """The repeat photo was scaled, turned and moved: carried into the first photo's frame, it
    lies over the first far closer than it did as taken."""
    import io

    import numpy as np
    from PIL import Image

    client_id = clinic.clients["blocked"]
    with _page(clinic) as browser:
        first = browser.get(f"/clients/{client_id}/progress/{history['first']}/photo")
        taken = browser.get(f"/clients/{client_id}/progress/{history['repeat']}/photo")
        aligned = browser.get(f"/clients/{client_id}/progress/{history['repeat']}/aligned")
        compare = browser.get(f"/clients/{client_id}/compare?entry={history['repeat']}")
    assert aligned.status_code == 200 and aligned.headers["content-type"] == "image/jpeg"
    grey = [
        np.asarray(Image.open(io.BytesIO(r.content)).convert("L"), dtype=float)
        for r in (first, taken, aligned)
    ]
    assert grey[2].shape == grey[0].shape
    face = (slice(150, 650), slice(300, 700))  # the face in the 1024 px astronaut
    before = np.abs(grey[1][face] - grey[0][face]).mean()
    after = np.abs(grey[2][face] - grey[0][face]).mean()
    assert after < before * 0.6
    assert compare.status_code == 200
    assert "data-compare-fade" in compare.text and "data-compare-flicker" in compare.text


def _capture(
    clinic: Clinic, browser: httpx.Client, content: bytes, consent: str = "yes"
) -> httpx.Response:
    from web.conftest import csrf_of

    client_id = clinic.clients["blocked"]
    token = csrf_of(browser.get(f"/clients/{client_id}/capture").text)
    return browser.post(
        f"/clients/{client_id}/capture",
        data={"csrf_token": token, "view": "front", "lighting_notes": "ring light",
              "photo_use_consent": consent},
        files={"photo": ("capture.jpg", content, "image/jpeg")},
        headers={"Accept": "application/json"},
    )  # fmt: skip


def test_a_captured_frame_out_of_tolerance_is_refused_and_not_kept(
    clinic: Clinic, history: dict[str, int]
) -> None:
    image = faces.astronaut()
    with _page(clinic) as browser:
        tilted = _capture(
            clinic,
            browser,
            faces.jpeg(faces.similar(image, scale=1, rotation_deg=15, shift_px=(0, 0))),
        )
        far = _capture(
            clinic,
            browser,
            faces.jpeg(faces.similar(image, scale=0.6, rotation_deg=0, shift_px=(0, 0))),
        )
        unconsented = _capture(clinic, browser, faces.jpeg(image), consent="")
        kept = _capture(clinic, browser, faces.jpeg(image))
    assert tilted.status_code == 422 and "roll (head tilt)" in tilted.json()["retake"]
    assert far.status_code == 422 and "come closer, retake" in far.json()["retake"]
    assert unconsented.status_code == 422 and unconsented.json()["field"] == "photo_use_consent"
    assert kept.status_code == 201, kept.text
    assert kept.json()["kept"] is True and "brow_height_left_mm" in kept.json()["measures"]
