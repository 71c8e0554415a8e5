"""axe-core (WCAG 2.0-2.2 A/AA) on every page of the home app, as tests/web/test_accessibility.py
runs it on the clinic's, at a phone's 360 and 390 px and at 820 px; no page scrolls sideways at
360 px; every control a thumb presses is at least 44 px high (WCAG 2.5.8 asks 24)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.home_served import Home, build_quick_routine, first_run, home_on, run_to_the_end
from web.page_checks import (
    WIDER_THAN_THE_VIEWPORT,
    axe_violations,
    markup_faults,
    scroll_width,
)

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Page  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOME_WIDTHS = ((360, 780), (390, 844), (820, 1180))


def _wrong_password(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/signin")
    page.get_by_label("Password").fill("not it at all")
    page.get_by_role("button", name="Sign in").click()


def _settings_saved(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/settings")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()


def _settings_skipping_everything(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/settings")
    for box in page.locator('#skip-first input[type="checkbox"]').all():
        box.check()
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("error-summary").wait_for()


def _builder_without_a_name(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/build")
    page.get_by_role("button", name="Save and open the routine").click()
    page.get_by_test_id("error-summary").wait_for()


def _guide_running(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/guide/home-express")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Pause").click()


def _guide_done(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/guide/my-quick")
    run_to_the_end(page)


def _health_refused(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/health")
    page.get_by_role("button", name="Save and sign").click()
    page.get_by_test_id("error-summary").wait_for()


def _device_stopped(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/device/home-express")
    page.get_by_role("button", name="Start on the device").click()
    page.locator("#device-step").wait_for()
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_role("button", name="Stopped: no output").wait_for()


def _photo_refused(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/photo")
    page.get_by_role("button", name="Save the chosen file").click()
    page.get_by_test_id("error-summary").wait_for()


def _photo_kept(page: Page, home: Home) -> None:
    from support import faces

    page.goto(f"{home.url}/photo")
    page.get_by_label("Or choose a photo file").set_input_files(
        {"name": "front.jpg", "mimeType": "image/jpeg", "buffer": faces.jpeg(faces.astronaut())}
    )
    page.get_by_label("I agree to this photo being kept").check()
    page.get_by_role("button", name="Save the chosen file").click()
    page.get_by_test_id("photo-kept").wait_for(timeout=30_000)


def _device_running(page: Page, home: Home) -> None:
    page.goto(f"{home.url}/device/home-express")
    page.get_by_role("button", name="Start on the device").click()
    page.get_by_text("running", exact=True).wait_for()
    page.get_by_role("button", name="Lower the level").click()
    page.get_by_text("Level 90% of your own.").wait_for()


def _goto(path: str) -> Callable[[Page, Home], None]:
    return lambda page, home: page.goto(f"{home.url}{path}") and None


HOME_SCREENS: dict[str, Callable[[Page, Home], None]] = {
    "today": _goto("/"),
    "guide": _goto("/guide/home-express"),
    "guide-paused": _guide_running,
    "guide-done": _guide_done,
    "settings": _goto("/settings"),
    "settings-saved": _settings_saved,
    "settings-errors": _settings_skipping_everything,
    "build": _goto("/build"),
    "build-errors": _builder_without_a_name,
    "health": _goto("/health"),
    "health-errors": _health_refused,
    "device": _goto("/device/home-express"),
    "device-stopped": _device_stopped,
    "photo": _goto("/photo"),
    "photo-errors": _photo_refused,
    "photo-kept": _photo_kept,
    "device-mine": _goto("/device/my-quick"),
    # last: the session runs on while the page is checked (the app's end stops it)
    "device-running": _device_running,
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with home_on(tmp_path_factory.mktemp("home-a11y"), device=True) as home:
        yield home


@pytest.fixture(scope="module")
def signed_in(browser: Browser, served: Home) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    first_run(page, served)
    build_quick_routine(page, served)
    try:
        yield page
    finally:
        context.close()


def _violations(page: Page) -> list[str]:
    found = markup_faults(page)
    for width, height in HOME_WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width} px: {v}" for v in axe_violations(page)]
        if width < 400 and (wide := scroll_width(page)) > width:
            culprits = ", ".join(page.evaluate(WIDER_THAN_THE_VIEWPORT))
            found.append(f"{width} px: the page is {wide} px wide ({culprits})")
    page.set_viewport_size({"width": 390, "height": 844})
    return found


SMALL_TARGETS = """() => [...document.querySelectorAll('main button, main .btn, main select, main input:not([type=hidden]), nav a')]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => { const r = el.getBoundingClientRect(); return r.height < 44 && !(['checkbox', 'radio'].includes(el.type) && el.closest('label') && el.closest('label').getBoundingClientRect().height >= 44); })
  .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + Math.round(el.getBoundingClientRect().height) + ' px')"""


@pytest.mark.parametrize("screen", list(HOME_SCREENS))
def test_every_home_page_meets_wcag_aa_on_a_phone(
    signed_in: Page, served: Home, screen: str
) -> None:
    HOME_SCREENS[screen](signed_in, served)
    assert _violations(signed_in) == []
    assert signed_in.evaluate(SMALL_TARGETS) == []


@pytest.mark.parametrize("screen", ["welcome", "signin", "signin-wrong"])
def test_the_first_run_and_sign_in_meet_wcag_aa_on_a_phone(
    browser: Browser, tmp_path: Path, screen: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        with home_on(tmp_path) as home:
            if screen == "welcome":
                page.goto(f"{home.url}/welcome")
            else:
                first_run(page, home)
                context.clear_cookies()
                if screen == "signin":
                    page.goto(f"{home.url}/signin")
                else:
                    _wrong_password(page, home)
            assert _violations(page) == []
    finally:
        context.close()
