"""Her progress photo from the phone's camera, at 390 x 844 in chromium: the fake camera plays
the astronaut portrait under the ghost of her newest comparable photo; a photo taken is held
for retake or save, refused without her agreement (the field named), then measured and kept on
her record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, astronaut_camera
from web.home_served import Home, an_earlier_photo, first_run, her_photos, home_on
from web.page_checks import axe_violations

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)
pytest.importorskip("mediapipe")

from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with astronaut_camera(tmp_path_factory.mktemp("home-camera")) as launched:
        yield launched


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


def test_a_photo_from_the_camera_under_her_ghost_is_retaken_saved_measured_and_kept(
    camera_browser: Browser, home: Home
) -> None:
    context = camera_browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        first_run(page, home)
        ghost_id = an_earlier_photo(home)
        page.get_by_role("link", name="Take a progress photo").click()
        expect(page).to_have_url(f"{home.url}/photo")
        assert page.evaluate("window.isSecureContext") is True

        page.get_by_role("button", name="Start the camera").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text("Camera on", timeout=15_000)
        video = page.locator("[data-camera-video]")
        page.wait_for_function("() => document.querySelector('[data-camera-video]').videoWidth > 0")
        assert video.evaluate("v => [v.videoWidth, v.videoHeight]") == [1024, 1024]
        ghost = page.get_by_role("img", name="Ghost of your front photo")
        expect(ghost).to_have_attribute("src", f"/photo/{ghost_id}")
        expect(ghost).to_be_visible()
        page.wait_for_function(
            "() => document.querySelector('[data-camera-ghost]').naturalWidth > 0"
        )
        video_box, ghost_box = video.bounding_box(), ghost.bounding_box()
        assert video_box is not None and ghost_box is not None
        assert abs(video_box["x"] - ghost_box["x"]) < 1 and abs(video_box["y"] - ghost_box["y"]) < 1
        assert video_box["width"] <= PHONE["width"]
        assert float(ghost.evaluate("g => getComputedStyle(g).opacity")) < 1

        # taken: the picture holds still until she retakes or saves it
        page.get_by_role("button", name="Take the photo").click()
        expect(status).to_contain_text("Photo taken")
        assert video.evaluate("v => v.paused") is True
        # the camera, the ghost and Retake / Save on screen pass axe at the phone's width too
        assert axe_violations(page) == []
        page.get_by_role("button", name="Retake").click()
        expect(status).to_contain_text("Camera on")
        expect(page.get_by_role("button", name="Save", exact=True)).to_be_hidden()
        page.wait_for_function("() => !document.querySelector('[data-camera-video]').paused")
        page.get_by_role("button", name="Take the photo").click()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(status).to_contain_text(
            "Not kept: Photo-use consent: you must agree", timeout=30_000
        )
        assert len(her_photos(home)) == 1

        page.get_by_label("I agree to this photo being kept").check()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(status).to_contain_text("Kept (quality", timeout=30_000)
        expect(page.get_by_role("button", name="Take another")).to_be_visible()
        # the one refusal (no agreement) is the browser's note of a 422, nothing else went wrong
        assert [e for e in errors if "status of 422" not in e] == []
    finally:
        context.close()
    photos = her_photos(home)
    assert len(photos) == 2
    newest = max(photos, key=lambda e: e.id)
    assert newest.view == "front" and newest.photo_use_consent is True
    assert newest.taken_on == home.days.today
    assert newest.measurement is not None and newest.measurement["comparable"] is True
