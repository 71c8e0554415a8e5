"""Standardised capture from a camera: chromium's fake camera plays a still of the astronaut
portrait; the page shows it under the ghost of the client's first front photo, and a capture
is measured by the server and kept, within tolerance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from microamp.store.models import ProgressEntry
from web.browsing import CHROMIUM, astronaut_camera
from web.conftest import PASSWORD, Clinic, add_front_photos, clinic_on

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)
pytest.importorskip("mediapipe")

from playwright.sync_api import Browser, expect  # noqa: E402


@pytest.fixture(scope="module")
def camera_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("web-camera")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        add_front_photos(served)
        yield served


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with astronaut_camera(tmp_path_factory.mktemp("camera")) as launched:
        yield launched


def _front_entries(clinic: Clinic) -> list[ProgressEntry]:
    with clinic.store.session() as db:
        return list(
            db.scalars(
                select(ProgressEntry).where(
                    ProgressEntry.client_id == clinic.clients["cleared"],
                    ProgressEntry.view == "front",
                )
            )
        )


def test_a_frame_from_the_camera_under_the_ghost_is_measured_and_kept(
    camera_browser: Browser, camera_clinic: Clinic
) -> None:
    context = camera_browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(camera_clinic.url + "/signin")
        page.get_by_label("Email").fill(camera_clinic.emails["practitioner"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{camera_clinic.url}/clients/{camera_clinic.clients['cleared']}/capture")
        before = len(_front_entries(camera_clinic))

        page.get_by_role("button", name="Start the camera").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text("Camera on", timeout=15_000)
        video = page.locator("[data-camera-video]")
        page.wait_for_function("() => document.querySelector('[data-camera-video]').videoWidth > 0")
        assert video.evaluate("v => [v.videoWidth, v.videoHeight]") == [1024, 1024]
        # the ghost of the first front photo lies over the live picture, see-through
        ghost = page.get_by_role("img", name="Ghost of the first front photo")
        expect(ghost).to_be_visible()
        video_box, ghost_box = video.bounding_box(), ghost.bounding_box()
        assert video_box is not None and ghost_box is not None
        assert abs(video_box["x"] - ghost_box["x"]) < 1 and abs(video_box["y"] - ghost_box["y"]) < 1
        assert float(ghost.evaluate("g => getComputedStyle(g).opacity")) < 1

        page.get_by_role("button", name="Capture").click()
        expect(status).to_contain_text("Not kept", timeout=30_000)  # no photo-use consent yet
        page.get_by_label("The client agrees to this photo").check()
        page.get_by_role("button", name="Capture").click()
        expect(status).to_contain_text("Kept (quality", timeout=30_000)
        # the one refusal (no consent) is the browser's note of a 422, nothing else went wrong
        assert [e for e in errors if "status of 422" not in e] == []
    finally:
        context.close()
    entries = _front_entries(camera_clinic)
    assert len(entries) == before + 1
    newest = max(entries, key=lambda e: e.id)
    assert newest.photo_use_consent is True
    assert newest.measurement is not None and newest.measurement["comparable"] is True
