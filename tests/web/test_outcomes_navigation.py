"""Measured results are reached from the client page by keyboard alone: the client page leads
to the outcome page, the comparison view and standardised capture, and each of those leads to
the others and back; the Clients item of the navigation stays current throughout. The
calibration sticker is served to clinical staff to print."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from microamp.store.crud import get_client
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic
from web.page_checks import tab_to

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, sqlite_clinic: Clinic) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    opened.goto(sqlite_clinic.url + "/signin")
    opened.get_by_label("Email").fill(sqlite_clinic.emails["practitioner"])
    opened.get_by_label("Password").fill(PASSWORD)
    opened.get_by_role("button", name="Sign in").click()
    expect(opened.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    try:
        yield opened
    finally:
        context.close()


def _client_name(clinic: Clinic) -> str:
    with clinic.store.session() as db:
        return get_client(db, client_id=clinic.clients["cleared"]).full_name


def _follow(page: Page, link: str, heading: str) -> None:
    """Tab to the first link matching ``link``, press Enter, land on ``heading``."""
    tab_to(page, link, limit=150)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    clients = page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients")
    expect(clients).to_have_attribute("aria-current", "page")


def test_the_results_pages_are_reached_by_keyboard_from_the_client_page(
    page: Page, sqlite_clinic: Clinic
) -> None:
    client = f"/clients/{sqlite_clinic.clients['cleared']}"
    page.goto(sqlite_clinic.url + client)
    _follow(page, f"a[href='{client}/outcomes']", "Measured results")
    _follow(page, f"a[href^='{client}/compare']", "Compare photos")
    _follow(page, f"a[href^='{client}/outcomes']", "Measured results")
    _follow(page, f"a[href^='{client}/capture']", "Take a standard photo")
    tab_to(page, "a[href='/outcomes/sticker.svg']", limit=150)  # the sticker to print, on the way
    _follow(page, f"a[href='{client}']", _client_name(sqlite_clinic))
    _follow(page, f"a[href='{client}/compare']", "Compare photos")
    page.goto(sqlite_clinic.url + client)
    _follow(page, f"a[href='{client}/capture']", "Take a standard photo")


def test_the_sticker_is_served_to_clinical_staff_only(sqlite_clinic: Clinic) -> None:
    practitioner = sqlite_clinic.browser_client("practitioner")
    reception = sqlite_clinic.browser_client("reception")
    try:
        served = practitioner.get("/outcomes/sticker.svg")
        refused = reception.get("/outcomes/sticker.svg")
    finally:
        practitioner.close()
        reception.close()
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert 'width="26mm"' in served.text and "18 mm" in served.text
    assert refused.status_code == 403
