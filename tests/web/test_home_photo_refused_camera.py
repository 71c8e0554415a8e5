"""A phone whose browser refuses the camera (no permission given): the progress photo page
names the camera and why, and offers the photo file instead. Its own browser: a fake camera
with no fake permission prompt, which chromium then answers "not allowed"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import faces
from web.browsing import CHROMIUM, fake_camera_args, launch_chromium
from web.home_served import Home, first_run, home_on

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def refusing_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    video = Path(tmp_path_factory.mktemp("home-camera-refused")) / "astronaut.y4m"
    video.write_bytes(faces.y4m(faces.astronaut()))
    args = [a for a in fake_camera_args(video) if a != "--use-fake-ui-for-media-stream"]
    with launch_chromium(args) as launched:
        yield launched


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


def test_a_camera_the_browser_refuses_is_named_and_the_file_offered(
    refusing_browser: Browser, home: Home
) -> None:
    context = refusing_browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        first_run(page, home)
        page.goto(f"{home.url}/photo")
        page.get_by_role("button", name="Start the camera").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text("Camera: permission refused (NotAllowedError)",
                                       timeout=15_000)  # fmt: skip
        expect(status).to_contain_text("choose a photo file instead")
        expect(page.get_by_label("Or choose a photo file")).to_be_visible()
        expect(page.locator("[data-camera]")).to_be_hidden()
    finally:
        context.close()
