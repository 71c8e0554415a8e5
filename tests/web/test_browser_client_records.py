"""Keeping client records in a real browser: reception finds a client by phone as she types,
is warned of a duplicate and goes on; a practitioner's bad edit on a phone keeps what she typed
beside the error, without sideways scrolling; she merges the duplicate, confirmed, and starts a
treatment note from the owner's template."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from microamp.store.skin import save_note_template
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, add_history

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from web.page_checks import WIDER_THAN_THE_VIEWPORT, scroll_width  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


def _signed_in(browser: Browser, clinic: Clinic, role: str, width: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return page


def _no_sideways_scroll(page: Page, width: int) -> None:
    scrolled = scroll_width(page)
    assert scrolled <= width, page.evaluate(WIDER_THAN_THE_VIEWPORT)


def _add(page: Page, clinic: Clinic, name: str, born: str, phone: str) -> None:
    page.goto(clinic.url + "/clients")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Date of birth").fill(born)
    page.get_by_label("Phone", exact=True).fill(phone)
    page.get_by_role("button", name="Add client").click()


@pytest.mark.parametrize("width", [820, 390])
def test_search_edit_and_merge_a_duplicate(
    browser: Browser, sqlite_clinic: Clinic, width: int
) -> None:
    name, phone = f"Mara Quinn {width}", f"+44 20 7946 0{width}"
    reception = _signed_in(browser, sqlite_clinic, "reception", width)
    try:
        _add(reception, sqlite_clinic, name, "1983-03-09", phone)
        expect(reception.get_by_role("heading", name=name)).to_be_visible()
        # the same phone again, typed differently: warned, the duplicate shown, then added anyway
        _add(reception, sqlite_clinic, f"M. Quinn {width}", "1983-03-09", phone.replace(" ", ""))
        warning = reception.get_by_test_id("duplicates")
        expect(warning).to_be_focused()
        expect(warning.get_by_role("link", name=name)).to_be_visible()
        expect(reception.get_by_label("Full name")).to_have_value(f"M. Quinn {width}")
        _no_sideways_scroll(reception, width)
        reception.get_by_role("button", name="Add anyway").click()
        expect(reception.get_by_role("heading", name=f"M. Quinn {width}")).to_be_visible()
        duplicate_url = reception.url
        # found by the phone's digits as she types
        reception.goto(sqlite_clinic.url + "/clients")
        reception.get_by_label("Search clients").fill(f"79460{width}")
        results = reception.locator("#client-list")
        expect(results.get_by_role("link", name=name)).to_be_visible()
        expect(results.get_by_role("link", name=f"M. Quinn {width}")).to_be_visible()
    finally:
        reception.context.close()

    practitioner = _signed_in(browser, sqlite_clinic, "practitioner", width)
    try:
        practitioner.goto(sqlite_clinic.url + "/clients")
        practitioner.get_by_label("Search clients").fill(name)
        practitioner.locator("#client-list").get_by_role("link", name=name).click()
        kept_url = practitioner.url
        practitioner.get_by_role("link", name="Edit details").click()
        practitioner.get_by_label("Allergies").fill("latex, nickel")
        practitioner.get_by_label("Email").fill("mara at example")
        practitioner.locator('form[action$="/edit"]').evaluate("f => { f.noValidate = true; }")
        practitioner.get_by_role("button", name="Save changes").click()
        summary = practitioner.get_by_test_id("error-summary")
        expect(summary).to_be_focused()
        expect(practitioner.locator("#email-error")).to_contain_text("must be an email address")
        expect(practitioner.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
        expect(practitioner.get_by_label("Allergies")).to_have_value("latex, nickel")
        _no_sideways_scroll(practitioner, width)
        summary.get_by_role("link").click()
        expect(practitioner.get_by_label("Email")).to_be_focused()
        practitioner.get_by_label("Email").fill("mara@example.org")
        practitioner.get_by_role("button", name="Save changes").click()
        expect(practitioner.get_by_test_id("allergies")).to_have_text("latex, nickel")
        # the merge: the duplicate is offered as likely the same, and asks to be confirmed
        practitioner.get_by_role("link", name="Merge a duplicate").click()
        practitioner.get_by_role("radio", name=f"M. Quinn {width}").check()
        practitioner.get_by_role("button", name="Merge").click()
        expect(practitioner.get_by_test_id("error-summary")).to_contain_text("cannot be undone")
        expect(practitioner.get_by_role("radio", name=f"M. Quinn {width}")).to_be_checked()
        _no_sideways_scroll(practitioner, width)
        practitioner.get_by_label("Move every intake form", exact=False).check()
        practitioner.get_by_role("button", name="Merge").click()
        expect(practitioner.get_by_test_id("merge-done")).to_be_visible()
        assert practitioner.url.startswith(kept_url)
        practitioner.goto(duplicate_url)
        expect(practitioner.get_by_test_id("merged-away")).to_be_visible()
        practitioner.goto(sqlite_clinic.url + "/clients")
        practitioner.get_by_label("Search clients").fill(f"79460{width}")
        results = practitioner.locator("#client-list")
        expect(results.get_by_role("link", name=name)).to_be_visible()
        expect(results.get_by_role("link", name=f"M. Quinn {width}")).to_have_count(0)
    finally:
        practitioner.context.close()


def test_a_treatment_note_starts_from_the_owners_template(
    browser: Browser, sqlite_clinic: Clinic
) -> None:
    from microamp.store.session_models import TreatmentSession

    add_history(sqlite_clinic)
    with sqlite_clinic.store.transaction() as db:
        save_note_template(db, name="Lift session", body="Zones worked:\nReaction:")
        record_id = db.scalars(select(TreatmentSession.id).order_by(TreatmentSession.id)).first()
    page = _signed_in(browser, sqlite_clinic, "practitioner", 390)
    try:
        page.goto(f"{sqlite_clinic.url}/records/{record_id}")
        notes = page.get_by_label("Notes", exact=True)
        notes.fill("Client arrived early.")
        page.get_by_label("Start the notes from a template").select_option(label="Lift session")
        expect(notes).to_have_value("Client arrived early.\n\nZones worked:\nReaction:")
        expect(notes).to_be_focused()
        _no_sideways_scroll(page, 390)
    finally:
        page.context.close()
