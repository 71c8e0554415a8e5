"""The paged client list in a real browser: reception reaches the next page by the keyboard
alone and back, and a refused "add client" shows the list again with nothing failing in the
browser (no asset or request answered with a server error)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from microamp.store.crud import create_client
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, clinic_on

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, Response, expect  # noqa: E402

from web.page_checks import tab_to  # noqa: E402


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("client-list-browser")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        with served.store.transaction() as db:
            for n in range(1, 31):
                create_client(db, full_name=f"Paige Listed {n:02d}", date_of_birth=date(1980, 1, n))
        yield served


@pytest.fixture(scope="module")
def reception(listed: Clinic) -> Iterator[Page]:
    with launch_chromium() as browser:
        yield _signed_in(browser, listed)


def _signed_in(browser: Browser, clinic: Clinic) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails["reception"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return page


def test_the_next_and_previous_pages_are_reached_by_the_keyboard(
    reception: Page, listed: Clinic
) -> None:
    reception.goto(listed.url + "/clients")
    expect(reception.get_by_test_id("client-count")).to_have_text("32 clients · page 1 of 2")
    tab_to(reception, 'a[rel="next"]')
    reception.keyboard.press("Enter")
    expect(reception).to_have_url(listed.url + "/clients?page=2")
    expect(reception.get_by_test_id("client-count")).to_have_text("32 clients · page 2 of 2")
    expect(reception.locator("table.data tbody tr")).to_have_count(7)
    current = reception.get_by_role("navigation", name="Pages of the client list")
    expect(current.get_by_role("link", name="Page 2 of 2, this page")).to_have_attribute(
        "aria-current", "page"
    )
    tab_to(reception, 'a[rel="prev"]')
    reception.keyboard.press("Enter")
    expect(reception).to_have_url(listed.url + "/clients?page=1")
    expect(reception.locator("table.data tbody tr")).to_have_count(25)


def test_a_refused_add_fails_nothing_in_the_browser(reception: Page, listed: Clinic) -> None:
    answered: list[Response] = []

    def heard(response: Response) -> None:
        answered.append(response)

    reception.on("response", heard)
    try:
        reception.goto(listed.url + "/clients")
        reception.get_by_label("Full name").fill("Not Yet Born")
        reception.get_by_label("Date of birth").fill((date.today() + timedelta(days=1)).isoformat())
        reception.get_by_role("button", name="Add client").click()
        expect(reception.get_by_role("heading", name="There is a problem")).to_be_visible()
        expect(reception.get_by_test_id("client-count")).to_have_text("32 clients · page 1 of 2")
        expect(reception.locator("table.data tbody tr")).to_have_count(25)
        reception.wait_for_load_state("networkidle")
    finally:
        reception.remove_listener("response", heard)
    failed = [f"{r.status} {r.url}" for r in answered if r.status >= 500]
    assert failed == []
    assert [r.status for r in answered if r.request.method == "POST"] == [422]
