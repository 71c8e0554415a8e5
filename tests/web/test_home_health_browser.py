"""Her health questions in chromium at a phone's 390 x 844: the first run opens them, and an
answer that rules microcurrent out is said plainly in guide mode, in view, with its reason,
while the routine still guides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.home_served import HOME_PASSWORD, Home, answer_health_questions, first_run, home_on

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_first_run_asks_the_health_questions_and_a_pacemaker_is_said_plainly_in_guide_mode(
    page: Page, home: Home
) -> None:
    page.goto(f"{home.url}/welcome")
    page.get_by_label("Your name").fill("Maria Silva")
    page.get_by_label("Date of birth").fill("1985-06-01")
    page.get_by_label("Choose a password").fill(HOME_PASSWORD)
    page.get_by_label("The password again").fill(HOME_PASSWORD)
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(f"{home.url}/health")
    expect(page.get_by_test_id("gate-notice")).to_contain_text("Do not use a device yet")

    answer_health_questions(page, home, pacemaker_or_implanted_device=True)
    page.goto(f"{home.url}/guide/home-express")

    notice = page.get_by_test_id("gate-notice")
    expect(notice).to_be_in_viewport()
    expect(notice).to_contain_text("Do not use a device yet")
    expect(notice).to_contain_text("pacemaker", ignore_case=True)
    expect(page.get_by_role("button", name="Start")).to_be_enabled()


def test_answered_clear_the_guide_has_no_warning(page: Page, home: Home) -> None:
    first_run(page, home)
    page.goto(f"{home.url}/guide/home-express")
    expect(page.locator("#guide")).to_be_visible()
    expect(page.get_by_test_id("gate-notice")).to_have_count(0)
