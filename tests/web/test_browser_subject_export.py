"""A person's export read in a real browser: the summary page of the archive, opened from the
unpacked files, meets WCAG 2.x AA with axe-core, has no markup faults and shows its photos and
chart without sideways scrolling, at a phone's width and a laptop's."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.conftest import Clinic, add_front_photos, add_history

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, expect  # noqa: E402

from web.page_checks import (  # noqa: E402
    WIDER_THAN_THE_VIEWPORT,
    axe_violations,
    markup_faults,
    scroll_width,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def unpacked(sqlite_clinic: Clinic, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cleared client's archive, with two photos and a charted session, unpacked."""
    add_front_photos(sqlite_clinic)
    add_history(sqlite_clinic)
    with sqlite_clinic.api("owner") as api:
        answer = api.get(f"/api/v1/clients/{sqlite_clinic.clients['cleared']}/export")
    assert answer.status_code == 200, answer.text
    folder = tmp_path_factory.mktemp("export")
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(folder)
    return folder


@pytest.mark.parametrize("width", [1366, 390])
def test_the_summary_page_is_accessible_and_fits(
    browser: Browser, unpacked: Path, width: int
) -> None:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto((unpacked / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("Your record at the clinic: Ana Lima")
    # the chart and both photos load from the archive's own files
    images = page.locator("img")
    expect(images).to_have_count(3)
    loaded = page.evaluate("[...document.images].every((i) => i.complete && i.naturalWidth > 0)")
    assert loaded
    assert axe_violations(page) == []
    assert markup_faults(page) == []
    assert scroll_width(page) <= width, page.evaluate(WIDER_THAN_THE_VIEWPORT)
    page.context.close()
