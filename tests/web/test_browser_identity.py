"""Staff identity in a real browser: the owner's Staff page by keyboard alone, and a two-factor
enrolment and sign-in (the code page checked by axe-core at every width)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, clinic_on

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from web.page_checks import axe_violations, tab_to  # noqa: E402

WIDTHS = ((1366, 768), (820, 1180), (390, 844))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("web-identity")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        yield served


def new_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1280, "height": 900}).new_page()


def sign_in_by_keyboard(page: Page, clinic: Clinic, email: str) -> None:
    page.goto(clinic.url + "/signin")
    # The email field takes the focus when the page opens; autofocus lands after the page
    # parses, so keys typed before it would be lost.
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def no_violations(page: Page) -> list[str]:
    found: list[str] = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width} px: {v}" for v in axe_violations(page)]
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def test_an_owner_disables_and_enables_a_user_by_keyboard_alone(
    browser: Browser, clinic: Clinic
) -> None:
    staff_member, owner = new_page(browser), new_page(browser)
    try:
        sign_in_by_keyboard(staff_member, clinic, clinic.emails["reception"])
        expect(staff_member.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        sign_in_by_keyboard(owner, clinic, clinic.emails["owner"])
        expect(owner.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        tab_to(owner, 'a[href="/staff"]')
        owner.keyboard.press("Enter")
        expect(owner.get_by_role("heading", name="Staff", exact=True)).to_be_visible()
        disable = f'button[aria-label="Disable {clinic.emails["reception"]}"]'
        tab_to(owner, disable)
        owner.keyboard.press("Enter")
        expect(owner.get_by_test_id("staff-done")).to_contain_text("disabled and signed out")
        staff_member.reload()
        expect(staff_member.get_by_role("heading", name="Sign in")).to_be_visible()
        tab_to(owner, f'button[aria-label="Enable {clinic.emails["reception"]}"]')
        owner.keyboard.press("Enter")
        expect(owner.get_by_test_id("staff-done")).to_contain_text("can sign in again")
        sign_in_by_keyboard(staff_member, clinic, clinic.emails["reception"])
        expect(staff_member.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    finally:
        staff_member.context.close()
        owner.context.close()


def test_two_factor_enrolment_then_a_sign_in_with_a_code(browser: Browser, clinic: Clinic) -> None:
    page = new_page(browser)
    try:
        sign_in_by_keyboard(page, clinic, clinic.emails["practitioner"])
        expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        page.goto(clinic.url + "/account")
        page.get_by_role("link", name="Set up two-factor sign-in").click()
        expect(page.get_by_role("img", name="QR code of the setup key")).to_be_visible()
        secret = page.get_by_test_id("totp-secret").inner_text().strip()
        totp = pyotp.TOTP(secret)
        page.get_by_label("Code from the app").fill(totp.now())
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
        assert no_violations(page) == []
        page.get_by_role("button", name="Sign out").click()
        sign_in_by_keyboard(page, clinic, clinic.emails["practitioner"])
        expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
        assert no_violations(page) == []
        expect(page.get_by_label("Code")).to_be_focused()
        page.keyboard.type("000000")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("error-summary")).to_be_focused()
        assert no_violations(page) == []
        # the code of enrolment's time step is spent; the next step's is accepted (one step of
        # clock drift is allowed), as the app shows it a moment later
        page.get_by_label("Code").fill(totp.at(time.time() + 30))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    finally:
        page.context.close()


def test_a_signed_out_visit_lands_on_its_page_and_two_factor_is_managed_by_keyboard(
    browser: Browser, clinic: Clinic
) -> None:
    from microamp.store.crud import create_user
    from microamp.web.security import hash_password

    email = "self.service@test.example"
    with clinic.store.transaction() as db:
        create_user(db, email=email, display_name="Self", role="reception",
                    password_hash=hash_password(PASSWORD))  # fmt: skip
    page = new_page(browser)
    wanted = f"/clients/{clinic.clients['cleared']}"
    try:
        page.goto(clinic.url + wanted)
        expect(page).to_have_url(f"{clinic.url}/signin?next={wanted}")
        expect(page.locator("#email")).to_be_focused()
        page.keyboard.type(email)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page).to_have_url(clinic.url + wanted)
        page.goto(clinic.url + "/account/two-factor")
        secret = page.get_by_test_id("totp-secret").inner_text().strip()
        page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
        first_codes = page.get_by_test_id("recovery-codes").inner_text()
        page.goto(clinic.url + "/account")
        assert no_violations(page) == []
        tab_to(page, "#codes-proof")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="New recovery codes")).to_be_visible()
        assert page.get_by_test_id("recovery-codes").inner_text() != first_codes
        assert no_violations(page) == []
        tab_to(page, 'a[href="/account"].btn')
        page.keyboard.press("Enter")
        expect(page).to_have_url(clinic.url + "/account")
        expect(page.locator("#off-proof")).to_be_visible()
        tab_to(page, "#off-proof")
        page.keyboard.type("not my password")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("error-summary")).to_be_focused()
        assert no_violations(page) == []
        tab_to(page, "#off-proof")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is off")
        assert no_violations(page) == []
    finally:
        page.context.close()
