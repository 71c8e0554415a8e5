"""Every page by keyboard, screen reader and phone, in Debian's chromium through Playwright.

axe-core checks every page of `SCREENS` in each role it lists (and every state of the live
console in `LIVE_STATES`) at the widths of `WIDTHS` against WCAG 2.0-2.2 A and AA; the Nu HTML
checker reads each page's markup; no page scrolls sideways at `REFLOW_WIDTHS`; motion stops for
those who ask; Stop stays on screen through a live session; and one session is run by the
keyboard alone. The checks themselves are in tests/web/page_checks.py.

A page added to the app is covered by adding one `Screen` to `SCREENS`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from web.browsing import CHROMIUM, choose_client, launch_chromium
from web.conftest import (
    PASSWORD,
    Clinic,
    add_book,
    add_front_photos,
    add_history,
    add_service_record,
    add_service_visit,
    clinic_on,
)

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect  # noqa: E402

from web.page_checks import (  # noqa: E402
    BOX,
    COUNT_POINTERS,
    HTMX_ATTRIBUTE,
    UNCOVERED,
    WIDER_THAN_THE_VIEWPORT,
    axe_violations,
    markup_faults,
    nu_checker,
    scroll_width,
    tab_to,
)

Action = Callable[[Page], None]
STAFF = ("owner", "practitioner", "reception")
CLINICAL = ("owner", "practitioner")
SIGNED_OUT = "signed out"


def _wrong_password(page: Page) -> None:
    page.get_by_label("Email").fill("owner@test.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def _add_client_born_tomorrow(page: Page) -> None:
    page.get_by_label("Full name").fill("Tomorrow's Child")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def _submit_intake_unanswered(page: Page) -> None:
    # screening again starts from the previous answers: clear them to leave questions unanswered
    page.locator("form.form").evaluate(
        "form => { form.noValidate = true;"
        " form.querySelectorAll('input[type=radio]').forEach(r => { r.checked = false; }); }"
    )
    page.get_by_role("button", name="Screen and save").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def _run_prechecks(page: Page) -> None:
    page.get_by_role("button", name="Run prechecks").click()
    expect(page.get_by_test_id("start").or_(page.get_by_test_id("not-ready"))).to_be_visible(
        timeout=20_000
    )


def _create_token(page: Page) -> None:
    page.get_by_label("Name of a new token").fill("booking")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("mat_")


def _unchecked(page: Page, action: str) -> None:
    """Let the form posting to ``action`` go without the browser's own checks, as a browser
    without them would send it, so the server's answer is what is seen."""
    page.locator(f'form[action$="{action}"]').evaluate("form => { form.noValidate = true; }")


def _sent_back(page: Page) -> None:
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()


def _consent_by_another_name(page: Page) -> None:
    page.get_by_text("Sign the consent").click()
    page.get_by_label("The client types their full name").fill("Someone Else")
    page.get_by_role("button", name="Record consent").click()
    _sent_back(page)


def _clearance_issued_later(page: Page) -> None:
    page.get_by_text("Record a clearance").click()
    page.get_by_label("Physician", exact=True).fill("Dr Ahead")
    page.get_by_label("Issued on").fill("2999-01-01")
    _unchecked(page, "/clearance")
    page.get_by_role("button", name="Record clearance").click()
    _sent_back(page)


def _flag_lifted_without_a_reason(page: Page) -> None:
    page.get_by_text("Lift a flag").click()
    page.get_by_label("Flag", exact=True).select_option(index=1)
    page.get_by_label("Why it no longer holds").fill("   ")
    page.get_by_role("button", name="Lift the flag").click()
    _sent_back(page)


def _plan_of_no_months(page: Page) -> None:
    page.get_by_text("Plan a new course").click()
    page.get_by_label("Months").fill("0")
    _unchecked(page, "/plans")
    page.get_by_role("button", name="Create plan").click()
    _sent_back(page)


def _book_a_taken_slot(page: Page) -> None:
    form = page.locator('form[action="/book"]')
    choose_client(form, "Ben Carter")
    form.get_by_label("Service").select_option(label="Lift facial")
    form.get_by_label("Room").select_option(label="Room 1")
    form.get_by_label("Practitioner").select_option(index=1)
    form.get_by_label("Start").fill("10:30")
    form.get_by_role("button", name="Book").click()
    _sent_back(page)
    expect(page.get_by_test_id("error-summary")).to_contain_text("Room 1 is booked 10:00-11:00")


def _move_by_keys_nowhere(page: Page) -> None:
    # the visit is in the first room's column: there is no column on its left
    page.locator("[data-grip]").first.focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_test_id("drop-status")).to_contain_text("Not moved")


def _service_edited_too_long(page: Page) -> None:
    page.get_by_label("Duration").fill("900")
    page.get_by_role("button", name="Save the service").click()
    _sent_back(page)
    expect(page.get_by_label("Duration")).to_have_value("900")


def _progress_taken_later(page: Page) -> None:
    page.get_by_text("Add a progress entry").click()
    page.get_by_label("Taken on").fill("2999-01-01")
    _unchecked(page, "/progress")
    page.get_by_role("button", name="Add entry").click()
    _sent_back(page)


def _feedback_comfort_eleven(page: Page) -> None:
    page.get_by_label("Comfort", exact=False).fill("11")
    _unchecked(page, "/feedback")
    page.get_by_role("button", name="Save feedback").click()
    _sent_back(page)


def _token_without_a_name(page: Page) -> None:
    page.get_by_label("Name of a new token").fill("   ")
    page.get_by_role("button", name="Create token").click()
    _sent_back(page)


def _protocol_file_not_a_protocol(page: Page) -> None:
    page.get_by_label("Protocol file (TOML)").set_input_files(
        {"name": "bad.toml", "mimeType": "text/plain", "buffer": b'name = "bad"\n'}
    )
    page.get_by_role("button", name="Store the protocol").click()
    _sent_back(page)


def _prechecks_with_a_cap_too_low(page: Page) -> None:
    page.get_by_label("Your cap (µA)").fill("5")
    page.locator("#console-form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Run prechecks").click()
    _sent_back(page)
    expect(page.get_by_label("Your cap (µA)")).to_have_attribute("aria-invalid", "true")


def _prechecks_without_a_client(page: Page) -> None:
    page.get_by_role("button", name="Run prechecks").click()
    _sent_back(page)
    expect(page.get_by_role("group", name="Client")).to_have_attribute("aria-invalid", "true")


def _start_with_a_level_too_high(page: Page) -> None:
    _run_prechecks(page)
    page.locator('form[action="/console/start"] input[name="intensity"]').evaluate(
        "input => { input.value = '500'; }"
    )
    page.get_by_test_id("start").click()
    _sent_back(page)


_hires = iter(range(1, 10_000))


def _add_staff(page: Page) -> None:
    page.get_by_label("Email", exact=True).fill(f"hire{next(_hires)}@test.example")
    page.get_by_label("Name", exact=True).fill("New Hire")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_test_id("temporary-password")).to_be_visible()


def _add_staff_taken(page: Page) -> None:
    page.get_by_label("Email", exact=True).fill("practitioner@test.example")
    page.get_by_role("button", name="Add", exact=True).click()
    _sent_back(page)


def _demote_the_last_owner(page: Page) -> None:
    page.get_by_label("Role of owner@test.example", exact=True).select_option("reception")
    page.get_by_role("button", name="Save the role of owner@test.example").click()
    _sent_back(page)


def _mail_settings_bad_port(page: Page) -> None:
    page.get_by_role("textbox", name="SMTP server").fill("smtp.example.org")
    page.get_by_label("Port", exact=True).fill("smtp")
    page.get_by_label("From address").fill("desk@clinic.example")
    page.get_by_role("button", name="Save").click()
    _sent_back(page)


def _mail_test_queued(page: Page) -> None:
    page.get_by_label("Send a test message to").fill("ana@example.org")
    page.get_by_role("button", name="Queue a test message").click()
    expect(page.get_by_test_id("mail-done")).to_be_visible()


def _move_into_a_closed_hour(page: Page) -> None:
    page.get_by_label("Start").fill("06:00")
    page.get_by_label("End").fill("07:00")
    page.get_by_role("button", name="Move the visit").click()
    _sent_back(page)
    expect(page.get_by_label("Start")).to_have_value("06:00")


def _clinic_hours_backwards(page: Page) -> None:
    page.get_by_label("Tuesday").fill("18:00-09:00")
    page.get_by_role("button", name="Save the clinic").click()
    _sent_back(page)
    expect(page.get_by_label("Tuesday")).to_have_value("18:00-09:00")


def _service_with_a_wrong_step(page: Page) -> None:
    page.get_by_label("Service name").fill("Peel")
    page.get_by_label("Duration").fill("45")
    page.get_by_label("Steps").fill("Steam, 10, sauna")
    page.get_by_role("button", name="Add the service").click()
    _sent_back(page)


# the pre-visit link of the a11y clinic's client, made by `a11y_clinic`
PREVISIT: dict[str, str] = {}


def _open_previsit(page: Page) -> None:
    page.goto(PREVISIT["url"])
    expect(page.get_by_role("heading", name="Before your visit")).to_be_visible()


def _previsit_unanswered(page: Page) -> None:
    _open_previsit(page)
    page.locator("form.form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Send to the clinic").click()
    _sent_back(page)


def _open_visit(page: Page) -> None:
    page.goto(PREVISIT["visit"])
    expect(page.get_by_role("button", name="Confirm my visit")).to_be_visible()


def _previsit_link_made(page: Page) -> None:
    page.get_by_role("button", name="Make a link to copy").click()
    expect(page.get_by_test_id("previsit-done")).to_be_visible()


def _wrong_current_password(page: Page) -> None:
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password", exact=True).fill("a new long password")
    page.get_by_label("New password again").fill("a new long password")
    page.get_by_role("button", name="Change password").click()
    _sent_back(page)


def _wrong_enrolment_code(page: Page) -> None:
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor").click()
    _sent_back(page)


def _capture_without_consent(page: Page) -> None:
    page.get_by_role("button", name="Keep the chosen file").click()
    _sent_back(page)


def _edit_with_a_bad_email(page: Page) -> None:
    page.get_by_label("Email").fill("not an address")
    _unchecked(page, "/edit")
    page.get_by_role("button", name="Save changes").click()
    _sent_back(page)


def _merge_unconfirmed(page: Page) -> None:
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Merge").click()
    _sent_back(page)


def _erase_with_a_wrong_name(page: Page) -> None:
    page.get_by_label("Type the client's name, Ana Lima, to confirm").fill("Ana")
    page.get_by_role("button", name="Erase this client").click()
    _sent_back(page)


def _retention_over_a_century(page: Page) -> None:
    page.get_by_label("Records retention").fill("101")
    page.get_by_role("button", name="Save the clinic").click()
    _sent_back(page)


def _add_a_possible_duplicate(page: Page) -> None:
    page.get_by_label("Full name").fill("Ana Lima")
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_test_id("duplicates")).to_be_focused()


def _skin_analysis_without_laxity(page: Page) -> None:
    page.get_by_text("Record a skin analysis").click()
    page.get_by_label("Skin type", exact=True).select_option("dry")
    page.get_by_label("Fitzpatrick type").select_option("II")
    page.get_by_role("button", name="Save the analysis").click()
    _sent_back(page)


def _note_template_without_text(page: Page) -> None:
    page.get_by_label("Name").fill("Lift")
    _unchecked(page, "/note-templates")
    page.get_by_role("button", name="Save the template").click()
    _sent_back(page)


def _package_with_a_bad_price(page: Page) -> None:
    page.get_by_label("Name").fill("Ten lifts")
    page.get_by_label("Sessions").fill("10")
    page.get_by_label("Price").fill("lots")
    page.get_by_role("button", name="Add the package").click()
    _sent_back(page)


def _payment_with_a_bad_amount(page: Page) -> None:
    page.get_by_text("Record a payment").click()
    page.get_by_label("Amount", exact=True).fill("12.345")
    page.get_by_label("Method", exact=True).select_option("card")
    page.get_by_label("Reference", exact=True).fill("POS 1")
    page.get_by_role("button", name="Record the payment").click()
    _sent_back(page)


def _compare_flickering_with_landmarks(page: Page) -> None:
    page.get_by_role("button", name="Show the first photo's landmarks").click()
    page.get_by_role("button", name="Flicker between them").click()
    expect(page.get_by_role("button", name="Flicker between them")).to_have_attribute(
        "aria-pressed", "true"
    )


def _a_step_under_way(page: Page) -> None:
    """The checklist with a step done and one timing (the first width does it, the others
    find it so)."""
    cleansing = page.get_by_role("button", name="Done Cleansing")
    if cleansing.count():
        page.get_by_label("Products used in Cleansing").fill("Gentle foaming cleanser")
        cleansing.click()
        expect(page.locator("#visit-step-1").get_by_test_id("step-status")).to_have_text("Done")
    massage = page.get_by_role("button", name="Start Massage")
    if massage.count():
        massage.click()
    expect(page.locator("#visit-step-3").get_by_test_id("step-status")).to_have_text("Running")


def _older_records_offered(page: Page) -> None:
    """The records pager's first page: the latest records and the way to older ones."""
    expect(page.get_by_test_id("older-records")).to_be_visible()


def _newer_records_offered(page: Page) -> None:
    """Its second page: the way back to newer records, and no older ones left."""
    expect(page.get_by_role("link", name="Show newer records")).to_be_visible()
    expect(page.get_by_test_id("older-records")).to_have_count(0)


def _step_products_too_long_without_scripts(page: Page) -> None:
    """The page a plain form post gets back: the step with its error beside the field."""
    form = page.locator('form[action$="/steps/5"]')
    form.evaluate("form => { form.removeAttribute('data-checklist-form');"
                  " form.querySelector('input[name=products]').removeAttribute('maxlength'); }")  # fmt: skip
    page.get_by_label("Products used in Mask").fill("clay " * 120)
    page.get_by_role("button", name="Save products of Mask").click()
    expect(page.get_by_role("heading", name="Visit step")).to_be_visible()
    expect(page.locator("#products-5-error")).to_be_visible()


@dataclass(frozen=True)
class Screen:
    """A page (``path`` may name ``{cleared}``, ``{blocked}`` or ``{record}``), optionally
    brought to a state by ``then``, checked in each of ``roles``."""

    name: str
    path: str
    roles: tuple[str, ...] = STAFF
    then: Action | None = None


# Every page of the app: add a new one here and every check below covers it.
SCREENS: tuple[Screen, ...] = (
    Screen("sign-in", "/signin", roles=(SIGNED_OUT,)),
    Screen("sign-in refused", "/signin", roles=(SIGNED_OUT,), then=_wrong_password),
    Screen("API reference", "/api/v1/docs", roles=(SIGNED_OUT, *STAFF)),
    Screen("today", "/"),
    Screen("book", "/book"),
    Screen("book, a conflict", "/book", then=_book_a_taken_slot),
    Screen("book, a client searched", "/book?client_q=a"),
    Screen("book, no client found", "/book?client_q=zzz"),
    Screen("book by practitioner", "/book?by=practitioner"),
    Screen("book, the week", "/book/week"),
    Screen("book, the week by practitioner", "/book/week?by=practitioner"),
    Screen("book, the week of one room", "/book/week?by=room&only={room}"),
    Screen("book, a keyboard move refused", "/book", then=_move_by_keys_nowhere),
    Screen("move a visit", "/book/{visit}/move"),
    Screen("move a visit, refused", "/book/{visit}/move", then=_move_into_a_closed_hour),
    Screen("clients", "/clients"),
    Screen("clients, page 2", "/clients?page=2"),
    Screen("clients, a page past the end", "/clients?page=99"),
    Screen("clients, an error", "/clients", then=_add_client_born_tomorrow),
    Screen("client cleared", "/clients/{cleared}"),
    Screen("client blocked", "/clients/{blocked}"),
    Screen(
        "client with more records than a page",
        "/clients/{many_records}",
        CLINICAL,
        _older_records_offered,
    ),
    Screen(
        "client, older records",
        "/clients/{many_records}?records=2",
        CLINICAL,
        _newer_records_offered,
    ),
    Screen("intake", "/clients/{cleared}/intake"),
    Screen("intake, an error", "/clients/{cleared}/intake", CLINICAL, _submit_intake_unanswered),
    Screen("protocols", "/protocols"),
    Screen("protocol", "/protocols/pro-lift"),
    Screen("pulse graph", "/protocols/pro-lift/steps/1/pulse?load=dry&window=10ms", CLINICAL),
    Screen("console", "/console?client_id={cleared}"),
    Screen("console prechecks", "/console?client_id={cleared}", CLINICAL, _run_prechecks),
    Screen("console refused", "/console?client_id={blocked}", CLINICAL, _run_prechecks),
    Screen("console, a client searched", "/console?client_q=a", CLINICAL),
    Screen(
        "console, a client searched beside the one chosen",
        "/console?client_id={cleared}&client_q=paige",
        CLINICAL,
    ),
    Screen("console, no client found", "/console?client_q=zzz", CLINICAL),
    Screen(
        "console, a precheck without a client",
        "/console",
        ("practitioner",),
        _prechecks_without_a_client,
    ),
    Screen("record", "/records/{record}"),
    Screen("console, a visit's checklist", "/console?appointment_id={service_visit}", CLINICAL),
    Screen(
        "console, a step under way",
        "/console?appointment_id={service_visit}",
        CLINICAL,
        _a_step_under_way,
    ),  # fmt: skip
    Screen("record with the service's steps", "/records/{service_record}", CLINICAL),
    Screen(
        "a visit step refused, without scripts",
        "/console?appointment_id={service_visit}",
        CLINICAL,
        _step_products_too_long_without_scripts,
    ),  # fmt: skip
    Screen("care sheet", "/care/post"),
    Screen("account", "/account"),
    Screen("account, a new token", "/account", then=_create_token),
    Screen("account, a token error", "/account", ("practitioner",), _token_without_a_name),
    Screen(
        "client, a consent error", "/clients/{cleared}", ("practitioner",), _consent_by_another_name
    ),
    Screen(
        "client, a clearance error",
        "/clients/{blocked}",
        ("practitioner",),
        _clearance_issued_later,
    ),
    Screen(
        "client, a flag-lift error",
        "/clients/{blocked}",
        ("practitioner",),
        _flag_lifted_without_a_reason,
    ),
    Screen("client, a plan error", "/clients/{cleared}", ("practitioner",), _plan_of_no_months),
    Screen(
        "client, a progress error", "/clients/{cleared}", ("practitioner",), _progress_taken_later
    ),
    Screen(
        "record, a feedback error", "/records/{record}", ("practitioner",), _feedback_comfort_eleven
    ),
    Screen("protocols, an upload error", "/protocols", ("owner",), _protocol_file_not_a_protocol),
    Screen(
        "console prechecks, an error",
        "/console?client_id={cleared}",
        ("practitioner",),
        _prechecks_with_a_cap_too_low,
    ),
    Screen(
        "console start, an error",
        "/console?client_id={cleared}",
        ("practitioner",),
        _start_with_a_level_too_high,
    ),
    Screen("measured results", "/clients/{cleared}/outcomes", CLINICAL),
    Screen("measured results, no photos", "/clients/{blocked}/outcomes?view=left45", CLINICAL),
    Screen("compare photos", "/clients/{cleared}/compare", CLINICAL),
    Screen(
        "compare photos, flicker and landmarks",
        "/clients/{cleared}/compare",
        ("practitioner",),
        _compare_flickering_with_landmarks,
    ),
    Screen("standard photo", "/clients/{cleared}/capture", CLINICAL),
    Screen(
        "standard photo, an error",
        "/clients/{cleared}/capture",
        ("practitioner",),
        _capture_without_consent,
    ),
    Screen("client edit", "/clients/{cleared}/edit"),
    Screen(
        "client edit, an error",
        "/clients/{cleared}/edit",
        ("practitioner",),
        _edit_with_a_bad_email,
    ),  # fmt: skip
    Screen("clients, a possible duplicate", "/clients", then=_add_a_possible_duplicate),
    Screen("client merge", "/clients/{cleared}/merge?q=Ben", CLINICAL),
    Screen(
        "client merge, an error",
        "/clients/{cleared}/merge?q=Ben",
        ("practitioner",),
        _merge_unconfirmed,
    ),  # fmt: skip
    Screen(
        "client, a skin analysis error",
        "/clients/{cleared}",
        ("practitioner",),
        _skin_analysis_without_laxity,
    ),  # fmt: skip
    Screen("note templates", "/note-templates", ("owner",)),
    Screen(
        "note templates, an error", "/note-templates", ("owner",), _note_template_without_text
    ),  # fmt: skip
    Screen("packages", "/packages", ("owner",)),
    Screen("packages, an error", "/packages", ("owner",), _package_with_a_bad_price),
    Screen("client, a payment error", "/clients/{cleared}", STAFF, _payment_with_a_bad_amount),
    Screen("takings", "/takings"),
    Screen("takings, an error", "/takings?day=2026-02-30"),
    Screen("not found", "/clients/999999"),
    Screen("staff", "/staff", ("owner",)),
    Screen("staff, a temporary password", "/staff", ("owner",), _add_staff),
    Screen("staff, an error", "/staff", ("owner",), _add_staff_taken),
    Screen("staff, a role refused", "/staff", ("owner",), _demote_the_last_owner),
    Screen("audit log", "/audit", ("owner",)),
    Screen("pre-visit form", "/signin", (SIGNED_OUT,), _open_previsit),
    Screen("pre-visit form, an error", "/signin", (SIGNED_OUT,), _previsit_unanswered),
    Screen("pre-visit link refused", "/previsit/1.1.1.not-signed", (SIGNED_OUT,)),
    Screen("a reminder's confirm or cancel page", "/signin", (SIGNED_OUT,), _open_visit),
    Screen("client, a pre-visit link made", "/clients/{cleared}", STAFF, _previsit_link_made),
    Screen("client, a pre-visit form awaiting review", "/clients/{previsit}", STAFF),
    Screen("mail settings", "/settings/mail", ("owner",)),
    Screen("clinic settings", "/settings/clinic", ("owner",)),
    Screen("edit a room", "/settings/clinic/rooms/{room}", ("owner",)),
    Screen("edit a service", "/settings/clinic/services/{service}", ("owner",)),
    Screen(
        "edit a service, an error",
        "/settings/clinic/services/{service}",
        ("owner",),
        _service_edited_too_long,
    ),
    Screen("clinic settings, bad hours", "/settings/clinic", ("owner",), _clinic_hours_backwards),
    Screen(
        "clinic settings, a bad retention",
        "/settings/clinic",
        ("owner",),
        _retention_over_a_century,
    ),
    Screen("client erasure", "/clients/{cleared}/erase", ("owner",)),
    Screen(
        "client erasure, an error", "/clients/{cleared}/erase", ("owner",), _erase_with_a_wrong_name
    ),
    Screen(
        "clinic settings, a bad step", "/settings/clinic", ("owner",), _service_with_a_wrong_step
    ),
    Screen("mail settings, an error", "/settings/mail", ("owner",), _mail_settings_bad_port),
    Screen("mail settings, a message queued", "/settings/mail", ("owner",), _mail_test_queued),
    Screen("audit log, an error", "/audit?since=2026-05-02&until=2026-05-01", ("owner",)),
    Screen("account password", "/account/password"),
    Screen(
        "account password, an error",
        "/account/password",
        ("practitioner",),
        _wrong_current_password,
    ),  # fmt: skip
    Screen("two-factor setup", "/account/two-factor"),
    Screen(
        "two-factor setup, an error",
        "/account/two-factor",
        ("practitioner",),
        _wrong_enrolment_code,
    ),  # fmt: skip
)
# The live console, brought to each state by `open_live`
LIVE_STATES = ("running", "paused", "faulted", "stopped")
WIDTHS = ((1366, 768), (820, 1180), (390, 844))
# a phone; 1366 px at 200 % zoom; 1280 px at 400 % (WCAG's reflow width)
REFLOW_WIDTHS = (390, 683, 320)
# the device chosen when a session is to fault: it disconnects 4 s (device time) after opening
FAULTY_DEVICE = "sim://?load=gel&fault=disconnect@4"
GOOD_DEVICE = "sim://?load=gel"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def a11y_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """Sessions at 4x real time (long enough to look at a running one) with a plan and a
    recorded session; the clinic device is a simulator that disconnects mid-session."""
    data_dir = tmp_path_factory.mktemp("web-a11y")
    url = f"sqlite:///{data_dir / 'clinic.db'}"
    with clinic_on(url, data_dir, speed=4.0, device_url=FAULTY_DEVICE) as served:
        served.clients["record"] = add_history(served)
        add_front_photos(served)
        served.clients["visit"] = add_book(served)
        served.clients["service_visit"] = add_service_visit(served)
        served.clients["service_record"] = add_service_record(served)
        served.clients.update(_room_and_service(served))
        served.clients["previsit"] = _previsit_client(served)
        _a_page_of_clients_more(served)
        served.clients["many_records"] = _a_client_with_a_page_of_records_more(served)
        yield served


def _a_page_of_clients_more(clinic: Clinic) -> None:
    """Enough clients for the client list to run onto a second page."""
    from datetime import date

    from microamp.store.crud import create_client

    with clinic.store.transaction() as db:
        for n in range(1, 31):
            create_client(db, full_name=f"Paige Listed {n:02d}", date_of_birth=date(1980, 1, n))


def _a_client_with_a_page_of_records_more(clinic: Clinic) -> int:
    """A client with more session records than one page shows, so the records pager shows."""
    from datetime import date

    from microamp.store.crud import create_client
    from microamp.store.recording import SessionRecorder
    from microamp.web.pages.clients import RECORDS_PER_PAGE

    with clinic.store.transaction() as db:
        client = create_client(db, full_name="Rhea Records", date_of_birth=date(1975, 5, 5)).id
    for _ in range(RECORDS_PER_PAGE + 3):
        recorder = SessionRecorder.start(clinic.store, protocol_name="home-express",
                                         client_id=client)  # fmt: skip
        recorder.finish("completed")
    return client


def _room_and_service(clinic: Clinic) -> dict[str, int]:
    """The ids of the room and the service `add_book` made, for their edit pages."""
    from sqlalchemy import select

    from microamp.store.book_models import Room, Service

    with clinic.store.session() as db:
        room = db.scalar(select(Room.id).where(Room.name == "Room 1"))
        service = db.scalar(select(Service.id).where(Service.name == "Lift facial"))
    assert room is not None and service is not None
    return {"room": room, "service": service}


def _booked_visit(session: Any, key: bytes, client_id: int) -> str:
    """The confirm / cancel token of a visit booked in two days at 10:00, in the room, service
    and hours `add_book` made (every day open)."""
    from datetime import date, datetime, timedelta

    from sqlalchemy import select

    from microamp.store.book import book_appointment
    from microamp.store.book_models import Room, Service
    from microamp.store.models import User
    from microamp.store.reminders import visit_token

    day = date.today() + timedelta(days=2)
    room = session.scalar(select(Room.id).where(Room.name == "Room 1"))
    service = session.scalar(select(Service.id).where(Service.name == "Lift facial"))
    practitioner = session.scalar(select(User.id).where(User.role == "practitioner"))
    appointment = book_appointment(
        session, client_id=client_id, service_id=service, room_id=room,
        practitioner_id=practitioner, start=datetime(day.year, day.month, day.day, 10),
    )  # fmt: skip
    return visit_token(key, appointment)


def _previsit_client(clinic: Clinic) -> int:
    """A client whose pre-visit form awaits review; `PREVISIT` gets a good link of another."""
    from datetime import date

    from microamp.clinic.consent import current_consent_version
    from microamp.clinic.intake import nothing_to_report
    from microamp.store.crud import create_client
    from microamp.store.previsit import create_link, link_token, submit_previsit

    born = date(1982, 7, 1)
    key: bytes = clinic.app.state.link_key
    with clinic.store.session() as session:
        waiting = create_client(session, full_name="Ida Jones", date_of_birth=born)
        used = create_link(session, client_id=waiting.id, created_by_id=None)
        submit_previsit(session, used, answers=nothing_to_report(born, diabetes=True),
                        typed_name="Ida Jones", drawn_signature=None, typed_instead=True,
                        consent_version=current_consent_version(), photo_consent=False,
                        today=date.today())  # fmt: skip
        link = create_link(session, client_id=clinic.clients["cleared"], created_by_id=None)
        PREVISIT["url"] = f"{clinic.url}/previsit/{link_token(key, link)}"
        PREVISIT["visit"] = f"{clinic.url}/visit/{_booked_visit(session, key, waiting.id)}"
        session.commit()
        return waiting.id


@pytest.fixture(scope="module")
def contexts(browser: Browser, a11y_clinic: Clinic) -> Iterator[dict[str, BrowserContext]]:
    """One browser context per role, signed in once; its pages are reused by every test."""
    made: dict[str, BrowserContext] = {}
    try:
        for role in (*STAFF, SIGNED_OUT):
            context = browser.new_context(viewport={"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
            made[role] = context
            if role != SIGNED_OUT:
                sign_in(context.new_page(), a11y_clinic, role)
        yield made
    finally:
        for context in made.values():
            context.close()


@pytest.fixture
def tab(contexts: dict[str, BrowserContext], role: str) -> Iterator[Page]:
    """The page of ``role``'s context (a test parametrized by ``role``), at the widest width."""
    page = contexts[role].pages[0] if contexts[role].pages else contexts[role].new_page()
    page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
    yield page


def sign_in(page: Page, clinic: Clinic, role: str) -> None:
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def open_screen(page: Page, clinic: Clinic, screen: Screen) -> None:
    page.goto(clinic.url + screen.path.format(**clinic.clients))
    if screen.then is not None:
        screen.then(page)


def start_live(page: Page, clinic: Clinic, device_url: str = GOOD_DEVICE) -> None:
    """From the console to a running session of the cleared client."""
    page.goto(f"{clinic.url}/console?client_id={clinic.clients['cleared']}&protocol=pro-lift")
    page.get_by_label("Device").select_option(device_url)
    page.get_by_role("button", name="Run prechecks").click()
    page.get_by_test_id("start").click(timeout=20_000)
    expect(page.get_by_test_id("status")).to_have_text("running", timeout=20_000)


def open_live(page: Page, clinic: Clinic, state: str) -> None:
    start_live(page, clinic, FAULTY_DEVICE if state == "faulted" else GOOD_DEVICE)
    if state == "paused":
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_test_id("status")).to_have_text("paused", timeout=20_000)
    elif state == "faulted":
        expect(page.locator("#fault")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("status")).to_have_text("aborted", timeout=20_000)
    elif state == "stopped":
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("status")).to_have_text("stopped", timeout=20_000)


def stop_live(page: Page) -> None:
    stop = page.get_by_test_id("stop")
    if stop.is_enabled():
        stop.click()
        expect(stop).to_be_disabled(timeout=20_000)


def violations_at_every_width(page: Page) -> list[str]:
    found = markup_faults(page)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width} px: {v}" for v in axe_violations(page)]
    return found


def _screen_cases() -> list[Any]:
    return [
        pytest.param(role, screen, id=f"{role}-{screen.name}")
        for screen in SCREENS
        for role in screen.roles
    ]


@pytest.mark.parametrize(("role", "screen"), _screen_cases())
def test_every_page_in_every_role_meets_wcag_aa_at_every_width(
    tab: Page, a11y_clinic: Clinic, screen: Screen
) -> None:
    open_screen(tab, a11y_clinic, screen)
    assert violations_at_every_width(tab) == []


@pytest.mark.parametrize("state", LIVE_STATES)
@pytest.mark.parametrize("role", ["practitioner"])
def test_the_live_console_meets_wcag_aa_in_every_state(
    tab: Page, a11y_clinic: Clinic, state: str
) -> None:
    open_live(tab, a11y_clinic, state)
    try:
        assert violations_at_every_width(tab) == []
    finally:
        stop_live(tab)


@pytest.mark.parametrize("role", [*STAFF, SIGNED_OUT])
def test_no_page_scrolls_sideways_on_a_phone_or_zoomed_in(
    tab: Page, a11y_clinic: Clinic, role: str
) -> None:
    wide = []
    for screen in (s for s in SCREENS if role in s.roles):
        open_screen(tab, a11y_clinic, screen)
        for width in REFLOW_WIDTHS:
            tab.set_viewport_size({"width": width, "height": 844})
            if (scrolled := scroll_width(tab)) > width:
                culprits = ", ".join(tab.evaluate(WIDER_THAN_THE_VIEWPORT))
                wide.append(f"{screen.name} at {width} px: {scrolled} px wide ({culprits})")
        tab.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
    assert not wide, "\n".join(wide)


# -- the Nu HTML checker ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [*STAFF, SIGNED_OUT])
def test_no_page_or_state_breaks_the_content_security_policy(
    tab: Page, a11y_clinic: Clinic, role: str
) -> None:
    """Every page a role opens, and a live session for the clinical roles, with the browser's
    own report of what the policy refused: an inline script, handler or style left anywhere."""
    refused: list[str] = []
    where = ["?"]

    def heard(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{where[0]}: {message.text}")

    tab.on("console", heard)
    try:
        for screen in (s for s in SCREENS if role in s.roles):
            where[0] = screen.name
            open_screen(tab, a11y_clinic, screen)
            tab.wait_for_load_state("load")
        if role in CLINICAL:
            where[0] = "live console"
            open_live(tab, a11y_clinic, "running")
            stop_live(tab)
    finally:
        tab.remove_listener("console", heard)
    assert refused == []


@pytest.mark.parametrize("role", ["practitioner", SIGNED_OUT])
def test_every_page_is_valid_html_apart_from_htmx_attributes(
    tab: Page, a11y_clinic: Clinic, role: str, tmp_path: Path
) -> None:
    checker = nu_checker()
    for index, screen in enumerate(s for s in SCREENS if role in s.roles):
        open_screen(tab, a11y_clinic, screen)
        (tmp_path / f"{index:02d}.html").write_text(tab.content(), encoding="utf-8")
    if role in CLINICAL:
        open_live(tab, a11y_clinic, "running")
        (tmp_path / "live.html").write_text(tab.content(), encoding="utf-8")
        stop_live(tab)
    run = subprocess.run(
        [*checker, "--format", "json", "--exit-zero-always", "--stdout", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    messages = json.loads(run.stdout)["messages"]
    errors = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("type") == "error" and not HTMX_ATTRIBUTE.search(m.get("message", ""))
    ]
    assert not errors, "\n".join(errors)


# -- Stop, always at hand -----------------------------------------------------------------------


def _stop_on_screen(page: Page, where: str) -> list[str]:
    left, top, right, bottom = page.get_by_test_id("stop").evaluate(BOX)
    size = page.viewport_size
    assert size is not None
    problems = []
    if right - left < 44 or bottom - top < 44:
        problems.append(f"{where}: Stop is {right - left:.0f} x {bottom - top:.0f} px")
    if left < 0 or top < 0 or right > size["width"] or bottom > size["height"]:
        problems.append(f"{where}: Stop at {left:.0f},{top:.0f}-{right:.0f},{bottom:.0f}")
    for name in ("cue", "amplitude"):
        if not page.locator(f"#{name}").evaluate(UNCOVERED):
            problems.append(f"{where}: #{name} is covered")
    return problems


@pytest.mark.parametrize("role", ["practitioner"])
def test_stop_is_on_screen_at_every_width_and_scroll_position_and_covers_nothing(
    tab: Page, a11y_clinic: Clinic
) -> None:
    start_live(tab, a11y_clinic)
    problems = []
    try:
        for width, height in ((1366, 768), (820, 1180), (390, 844)):
            tab.set_viewport_size({"width": width, "height": height})
            tab.evaluate("window.scrollTo(0, 0)")
            problems += _stop_on_screen(tab, f"{width} x {height}, top")
            for name in ("cue", "amplitude"):
                tab.locator(f"#{name}").scroll_into_view_if_needed()
                problems += _stop_on_screen(tab, f"{width} x {height}, #{name} in view")
            tab.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            problems += _stop_on_screen(tab, f"{width} x {height}, bottom")
    finally:
        stop_live(tab)
    assert not problems, "\n".join(problems)


# -- the keyboard alone -------------------------------------------------------------------------


def test_a_session_is_run_by_keyboard_alone(browser: Browser, a11y_clinic: Clinic) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_init_script(f"({COUNT_POINTERS})()")
    page = context.new_page()
    try:
        page.goto(a11y_clinic.url + "/signin")
        expect(page.get_by_label("Email")).to_be_focused()
        page.keyboard.type(a11y_clinic.emails["practitioner"])
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        tab_to(page, 'nav a[href="/clients"]')
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Clients", exact=True)).to_be_visible()
        tab_to(page, f'a[href="/clients/{a11y_clinic.clients["cleared"]}"]')
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Ana Lima")).to_be_visible()
        tab_to(page, 'a[href^="/console?client_id="]')
        page.keyboard.press("Enter")
        expect(page.get_by_role("radio", name="Ana Lima")).to_be_checked()
        tab_to(page, "#device_url")
        page.keyboard.press("ArrowDown")  # from the clinic's (faulty) device to the simulator
        expect(page.get_by_label("Device")).to_have_value(GOOD_DEVICE)
        tab_to(page, "#console-form button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("start")).to_be_visible(timeout=20_000)
        tab_to(page, '[data-testid="start"]')
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("status")).to_have_text("running", timeout=20_000)
        expect(page.get_by_role("link", name="Open the record")).to_be_hidden()
        page.keyboard.press("Tab")
        expect(page.locator(".skip-link")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_test_id("stop")).to_be_focused()
        tab_to(page, "#intensity-down")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("intensity-value")).to_have_text("95 %")
        tab_to(page, "#stop", backwards=True)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("status")).to_have_text("stopped", timeout=20_000)
        expect(page.get_by_role("link", name="Open the record")).to_be_focused()
        assert page.evaluate("window.__pointers") == 0
    finally:
        context.close()


# -- what a screen reader hears -----------------------------------------------------------------


def _said(page: Page, region: str) -> list[str]:
    texts: list[str] = page.get_by_test_id(region).locator("p").all_inner_texts()
    return texts


@pytest.mark.parametrize("role", ["practitioner"])
def test_pause_resume_and_level_are_said_politely_and_a_stop_at_once_each_once(
    tab: Page, a11y_clinic: Clinic
) -> None:
    start_live(tab, a11y_clinic)
    tab.get_by_role("button", name="Pause").click()
    expect(tab.get_by_test_id("status")).to_have_text("paused", timeout=20_000)
    tab.get_by_role("button", name="Resume").click()
    expect(tab.get_by_test_id("status")).to_have_text("running", timeout=20_000)
    tab.get_by_role("button", name="Lower the intensity by 5 %").click()
    expect(tab.get_by_test_id("announce-polite")).to_contain_text("Intensity 95 %", timeout=20_000)
    tab.keyboard.press("Escape")
    expect(tab.get_by_test_id("status")).to_have_text("stopped", timeout=20_000)
    expect(tab.get_by_test_id("announce-urgent")).to_contain_text("stopped", timeout=20_000)
    tab.wait_for_timeout(1000)  # anything said twice would be said by now
    polite = _said(tab, "announce-polite")
    assert [s for s in polite if s.startswith("Paused")] == ["Paused: no current."]
    assert polite.count("Resumed.") == 1
    assert len([s for s in polite if s.startswith("Intensity 95 %")]) == 1
    urgent = _said(tab, "announce-urgent")
    assert len(urgent) == 1 and urgent[0].startswith("Session stopped"), urgent


@pytest.mark.parametrize("role", ["practitioner"])
def test_the_live_console_keeps_still_when_reduced_motion_is_asked_for(
    tab: Page, a11y_clinic: Clinic
) -> None:
    tab.emulate_media(reduced_motion="reduce")
    try:
        start_live(tab, a11y_clinic)
        progress = tab.locator("#progress")
        assert progress.evaluate("el => getComputedStyle(el).transitionDuration") == "0s"
        stop_live(tab)
        tab.emulate_media(reduced_motion="no-preference")
        start_live(tab, a11y_clinic)
        assert progress.evaluate("el => getComputedStyle(el).transitionDuration") != "0s"
    finally:
        stop_live(tab)
        tab.emulate_media(reduced_motion="no-preference")
