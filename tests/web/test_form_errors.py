"""A form sent back with errors: a summary at the top linking to each field in error, each field
marked invalid and described by its own message, and every value the user gave kept."""

from __future__ import annotations

import re

from web.conftest import Clinic, csrf_of


def _control(html: str, element_id: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no control #{element_id}"
    return found.group(0)


def test_a_client_born_in_the_future_is_sent_back_with_the_error_tied_to_its_field(
    sqlite_clinic: Clinic,
) -> None:
    browser = sqlite_clinic.browser_client("practitioner")
    try:
        token = csrf_of(browser.get("/clients").text)
        form = {
            "csrf_token": token, "full_name": "Tomorrow's Child", "date_of_birth": "2999-01-01",
            "phone": "+1 555 0100", "skin_type": "III", "concerns": "jawline",
            "weekdays": ["tue", "fri"],
        }  # fmt: skip
        response = browser.post("/clients", data=form)
    finally:
        browser.close()
    assert response.status_code == 422
    html = response.text
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summary, "no error summary"
    assert 'tabindex="-1"' in summary.group(0) and "autofocus" in summary.group(0)
    assert '<a href="#date_of_birth">Date of birth: is in the future</a>' in summary.group(1)
    dob = _control(html, "date_of_birth")
    assert 'aria-invalid="true"' in dob and 'aria-describedby="date_of_birth-error"' in dob
    assert 'id="date_of_birth-error"' in html
    assert "aria-invalid" not in _control(html, "full_name")
    # every value given is kept
    assert 'value="Tomorrow&#39;s Child"' in _control(html, "full_name")
    assert 'value="2999-01-01"' in dob
    assert 'value="+1 555 0100"' in _control(html, "phone")
    assert 'value="jawline"' in _control(html, "concerns")
    assert re.search(r'<option value="III"\s+selected>', html)
    assert "checked" in _control(html, "weekday-tue") and "checked" in _control(html, "weekday-fri")
    assert "checked" not in _control(html, "weekday-mon")


def test_an_intake_sent_unanswered_lists_every_question_left_and_links_to_its_first_choice(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    browser = sqlite_clinic.browser_client("practitioner")
    try:
        token = csrf_of(browser.get(f"/clients/{client_id}/intake").text)
        form = {"csrf_token": token, "date_of_birth": "1988-04-12", "pregnant": "no"}
        response = browser.post(f"/clients/{client_id}/intake", data=form)
    finally:
        browser.close()
    assert response.status_code == 422
    html = response.text
    links = re.findall(r'<li><a href="#([\w-]+)">', html)
    assert "breastfeeding-yes" in links and "diabetes-yes" in links
    assert "pregnant-yes" not in links
    assert 'aria-describedby="diabetes-error"' in _control(html, "diabetes-yes")
    assert "checked" in _control(html, "pregnant-no")
