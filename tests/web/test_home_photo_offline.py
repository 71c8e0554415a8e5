"""Her progress photo taken with no network, at 390 x 844 in chromium with the fake camera: the
camera page opens from the phone's cache without its ghost, the photo she takes is kept on the
phone (IndexedDB) and sent when the phone is back online, once, dated the day it was taken; a
kept photo the server refuses is dropped and the next page says which and why until she
dismisses it; a photo kept for another account on the same phone is never sent for her."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import faces
from web.browsing import CHROMIUM, astronaut_camera
from web.home_served import Home, an_earlier_photo, first_run, her_photos, home_on
from web.page_checks import axe_violations

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)
pytest.importorskip("mediapipe")

from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

# what waits in the phone's photo store, as [account, view, taken_on] each
_WAITING = """async () => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open("microamp-home", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("photos", { keyPath: "id", autoIncrement: true });
    r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
  });
  const all = await new Promise((ok) => {
    const r = db.transaction("photos").objectStore("photos").getAll();
    r.onsuccess = () => ok(r.result);
  });
  db.close();
  return all.map((p) => [p.account, p.view, p.taken_on]);
}"""

# a grey frame with no face in it, kept on the phone as if the camera had taken it offline
_KEEP_NO_FACE = """async () => {
  const c = document.createElement("canvas");
  c.width = 640; c.height = 480;
  const g = c.getContext("2d");
  g.fillStyle = "#8a8a8a"; g.fillRect(0, 0, 640, 480);
  const blob = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.9));
  return window.microampPhotoQueue.keep(blob, "front");
}"""

# a photo kept on this phone for another account (a phone two people share)
_KEEP_FOR_ANOTHER = """async (jpeg) => {
  const bytes = Uint8Array.from(atob(jpeg), (c) => c.charCodeAt(0));
  const db = await new Promise((ok) => { const r = indexedDB.open("microamp-home", 1); r.onsuccess = () => ok(r.result); });
  await new Promise((ok) => {
    const t = db.transaction("photos", "readwrite");
    t.objectStore("photos").add({ account: "999", view: "front",
      taken_on: document.body.dataset.today, blob: new Blob([bytes], { type: "image/jpeg" }) });
    t.oncomplete = ok;
  });
  db.close();
}"""


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with astronaut_camera(tmp_path_factory.mktemp("home-offline-camera")) as launched:
        yield launched


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


@pytest.fixture
def context(camera_browser: Browser) -> Iterator[BrowserContext]:
    made = camera_browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        yield made
    finally:
        made.close()


def _back_online(context: BrowserContext, page: Page) -> None:
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")


def _fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations(page) == []


def test_a_photo_taken_offline_is_kept_on_the_phone_and_sent_once_back_online(
    context: BrowserContext, home: Home
) -> None:
    page = context.new_page()
    first_run(page, home)
    an_earlier_photo(home)
    page.reload()  # Today, with the photo link the worker keeps for offline
    page.wait_for_function("() => document.documentElement.dataset.offlineReady === 'true'")
    context.set_offline(True)
    page.get_by_role("link", name="Take a progress photo").click()
    expect(page).to_have_url(f"{home.url}/photo")
    # her photos stay on the server: offline, the ghost is hidden rather than broken
    expect(page.locator("[data-camera-ghost]")).to_be_hidden()

    page.get_by_role("button", name="Start the camera").click()
    status = page.locator("[data-capture-status]")
    expect(status).to_contain_text("Camera on", timeout=15_000)
    page.wait_for_function("() => document.querySelector('[data-camera-video]').videoWidth > 0")
    page.get_by_role("button", name="Take the photo").click()
    page.get_by_role("button", name="Save", exact=True).click()
    # her agreement is checked on the phone, as the server would
    expect(status).to_contain_text("Not kept: Photo-use consent: you must agree")
    assert page.evaluate(_WAITING) == []
    page.get_by_label("I agree to this photo being kept").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_contain_text("Saved on this phone: it is sent to your record")
    today = home.days.today.isoformat()
    account = page.evaluate("document.body.dataset.account")
    assert page.evaluate(_WAITING) == [[account, "front", today]]
    queue = page.get_by_test_id("photo-queue")
    expect(queue).to_contain_text("1 photo saved on this phone waits to be sent")
    _fits_the_phone(page)
    assert len(her_photos(home)) == 1  # the earlier one alone

    _back_online(context, page)
    expect(queue).to_contain_text("1 photo saved on this phone while offline is now kept")
    assert page.evaluate(_WAITING) == []
    photos = her_photos(home)
    assert len(photos) == 2
    sent = max(photos, key=lambda e: e.id)
    assert sent.taken_on == home.days.today and sent.view == "front"
    assert sent.photo_use_consent is True
    assert sent.measurement is not None and sent.measurement["comparable"] is True
    # a second flush (another page, another online event) sends nothing again
    page.goto(f"{home.url}/")
    page.wait_for_function("() => document.body.dataset.photoFlush === 'flushed'")
    assert len(her_photos(home)) == 2


def test_a_kept_photo_the_server_refuses_is_dropped_and_named_until_dismissed(
    context: BrowserContext, home: Home
) -> None:
    page = context.new_page()
    first_run(page, home)
    page.wait_for_function("() => document.body.dataset.photoFlush === 'flushed'")
    page.evaluate(_KEEP_NO_FACE)
    page.evaluate(_KEEP_FOR_ANOTHER, base64.b64encode(faces.jpeg(faces.astronaut())).decode())
    page.reload()
    refused = page.get_by_test_id("photo-refused")
    expect(refused).to_have_count(1)
    day = home.days.today
    expect(refused).to_contain_text(
        f"Your front photo of {day.day} {day:%B %Y}, saved on this phone, was not kept: Photo:"
    )
    expect(refused).to_contain_text("face")
    account = page.evaluate("document.body.dataset.account")
    # hers is gone from the phone, never resent; the other account's waits, unsent and unshown
    assert page.evaluate(_WAITING) == [["999", "front", day.isoformat()]]
    assert account != "999"
    expect(page.get_by_test_id("photo-queue")).not_to_contain_text("waits to be sent")
    assert her_photos(home) == []
    _fits_the_phone(page)

    page.goto(f"{home.url}/settings")  # the note follows her to the next page
    expect(page.get_by_test_id("photo-refused")).to_have_count(1)
    page.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_test_id("photo-refused")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("photo-refused")).to_have_count(0)
    assert her_photos(home) == []
