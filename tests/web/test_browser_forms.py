"""Forms sent back with their errors, in chromium at a phone's and a tablet's width: the error
summary takes the focus, nothing scrolls sideways, and axe-core finds no WCAG 2.x A/AA fault,
for the owner's forms too (the page-wide sideways check runs in the other roles)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, clinic_on

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from web.page_checks import WIDER_THAN_THE_VIEWPORT, axe_violations, scroll_width  # noqa: E402
from web.test_accessibility import (  # noqa: E402
    _demote_the_last_owner,
    _edit_with_a_bad_email,
    _mail_settings_bad_port,
    _note_template_without_text,
    _package_with_a_bad_price,
)

# a phone and a tablet held upright, as the issue of forms at 390 and 820 px asks
FORM_WIDTHS = ((390, 844), (820, 1180))
FORMS: dict[str, tuple[str, str, Callable[[Page], None]]] = {
    "staff, a role refused": ("owner", "/staff", _demote_the_last_owner),
    "mail settings, a bad port": ("owner", "/settings/mail", _mail_settings_bad_port),
    "packages, a bad price": ("owner", "/packages", _package_with_a_bad_price),
    "note templates, no text": ("owner", "/note-templates", _note_template_without_text),
    "client edit, a bad email": ("practitioner", "/clients/{cleared}/edit", _edit_with_a_bad_email),
}  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def forms_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("web-forms")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        yield served


def _signed_in(browser: Browser, clinic: Clinic, role: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return page


@pytest.mark.parametrize(("width", "height"), FORM_WIDTHS, ids=[f"{w}px" for w, _ in FORM_WIDTHS])
@pytest.mark.parametrize("form", list(FORMS))
def test_a_form_sent_back_fits_the_width_and_meets_wcag_aa(
    browser: Browser, forms_clinic: Clinic, form: str, width: int, height: int
) -> None:
    role, path, send_bad_value = FORMS[form]
    page = _signed_in(browser, forms_clinic, role, width, height)
    try:
        page.goto(forms_clinic.url + path.format(**forms_clinic.clients))
        send_bad_value(page)  # each ends with the error summary shown and focused
        expect(page.locator('[aria-invalid="true"]').first).to_be_attached()
        wide = scroll_width(page)
        assert wide <= width, f"{wide} px wide: {', '.join(page.evaluate(WIDER_THAN_THE_VIEWPORT))}"
        assert axe_violations(page) == []
    finally:
        page.context.close()


@pytest.mark.parametrize(("width", "height"), FORM_WIDTHS, ids=[f"{w}px" for w, _ in FORM_WIDTHS])
def test_the_mail_page_asking_for_the_password_again_fits_and_meets_wcag_aa(
    browser: Browser, tmp_path: Path, width: int, height: int
) -> None:
    from microamp.store.mail import save_mail_settings
    from microamp.store.mail_secret import mail_password_key

    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path) as clinic:
        with clinic.store.transaction() as session:  # as if sealed before a change of key
            save_mail_settings(session, host="smtp.example.org", port=587, tls_mode="starttls",
                               username="desk", password="s3cret", by="owner@test.example",
                               from_address="desk@clinic.example",
                               key=mail_password_key("the secret key before the change"))  # fmt: skip
        page = _signed_in(browser, clinic, "owner", width, height)
        try:
            page.goto(clinic.url + "/settings/mail")
            expect(page.get_by_test_id("password-problem")).to_contain_text("re-enter the SMTP")
            assert scroll_width(page) <= width
            assert axe_violations(page) == []
        finally:
            page.context.close()
