"""The pulse graph in a real browser, by keyboard alone: from a protocol's step to its graph,
then a different load chosen in the form changes the figures (a dry electrode takes more
voltage than gel)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1180, "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def volts(page: Page) -> float:
    text = page.locator('[data-figure="volts"]').inner_text()
    return float(text.split()[0].replace(",", ""))


def tab_to(page: Page, selector: str, limit: int = 200) -> None:
    """Press Tab until the element ``selector`` names has the focus."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_step_graph_is_opened_and_redrawn_by_keyboard(page: Page, sqlite_clinic: Clinic) -> None:
    page.goto(sqlite_clinic.url + "/signin")
    page.get_by_label("Email").fill(sqlite_clinic.emails["practitioner"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    page.goto(sqlite_clinic.url + "/protocols/pro-lift")
    tab_to(page, 'a[href="/protocols/pro-lift/steps/1/pulse"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Step 1 pulse")
    expect(page.get_by_role("img", name="into the gel load", exact=False)).to_be_visible()
    gel_v = volts(page)
    tab_to(page, "#pulse-load")
    page.keyboard.type("dry")  # a focused list box selects the option its typed name starts
    expect(page.locator("#pulse-load")).to_have_value("dry")
    graph_url = page.url
    tab_to(page, "#pulse-draw")
    page.keyboard.press("Enter")
    expect(page).to_have_url(graph_url + "?load=dry&profile=professional&window=period")
    expect(page.get_by_role("img", name="into the dry load", exact=False)).to_be_visible()
    assert volts(page) > gel_v
