"""A form sent back with errors: a summary at the top linking to each field in error, each field
marked invalid and described by its own message, and every value the user gave kept."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from web.conftest import Clinic, add_history, clinic_on, csrf_of
from web.test_protocol_upload import protocol_text
from web.test_setup import issue, post_form


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


def _post(
    clinic: Clinic, path: str, form: dict[str, object], page_path: str | None = None, **kw: object
) -> tuple[str, httpx.Response]:
    """The page holding the form, then the form posted with that page's CSRF token."""
    browser = clinic.browser_client(str(kw.pop("role", "practitioner")))
    try:
        before = browser.get(page_path or path).text
        response = browser.post(path, data=form | {"csrf_token": csrf_of(before)}, **kw)  # type: ignore[arg-type]
    finally:
        browser.close()
    return before, response


def _summary_links(html: str) -> list[str]:
    summaries = re.findall(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert len(summaries) == 1, f"{len(summaries)} error summaries"
    return re.findall(r'<li><a href="#([\w-]+)">', summaries[0])


def _marked(html: str, element_id: str, field: str, hint: str = "") -> str:
    control = _control(html, element_id)
    described = f"{hint} {field}-error".strip()
    assert 'aria-invalid="true"' in control, control
    assert f'aria-describedby="{described}"' in control, control
    assert f'id="{field}-error"' in html
    return control


def _only_errors_of(html: str, form_action: str) -> None:
    """Every field message sits in the one form that failed, whose <details> is open."""
    failing = re.search(
        rf'<details[^>]*\bopen\b[^>]*>(?:(?!</details>).)*action="{re.escape(form_action)}".*?</details>',
        html,
        re.S,
    )
    assert failing, f"the form posting to {form_action} is not open"
    assert html.count('class="field-error"') == failing.group(0).count('class="field-error"') > 0


def test_a_consent_signed_with_another_name_is_sent_back_marked_and_keeping_the_name(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    path = f"/clients/{client_id}/consent"
    _, response = _post(sqlite_clinic, path, {"typed_signature": "Someone Else"},
                        f"/clients/{client_id}")  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["typed_signature"]
    assert 'value="Someone Else"' in _marked(html, "typed_signature", "typed_signature")
    _only_errors_of(html, path)


def test_a_clearance_without_a_physician_is_sent_back_marked_keeping_the_dates(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["blocked"]
    path = f"/clients/{client_id}/clearance"
    form = {"physician_name": "  ", "issued_on": "2020-02-03", "valid_until": "2030-02-03",
            "document_ref": "letter 7"}  # fmt: skip
    _, response = _post(sqlite_clinic, path, form, f"/clients/{client_id}")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["physician_name"]
    _marked(html, "physician_name", "physician_name")
    assert 'value="2020-02-03"' in _control(html, "issued_on")
    assert 'value="2030-02-03"' in _control(html, "valid_until")
    assert 'value="letter 7"' in _control(html, "document_ref")
    assert 'class="error"' not in html
    _only_errors_of(html, path)


def _flag_of(html: str) -> str:
    found = re.search(
        r'<select id="lift_rule_id"[^>]*>\s*<option value="">[^<]*</option>\s*<option value="([^"]+)"',
        html,
    )
    assert found, "no flag to lift on the page"
    return found.group(1)


def test_a_flag_lifted_without_a_reason_is_sent_back_with_the_flag_still_chosen(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["blocked"]
    path = f"/clients/{client_id}/flags/lift"
    browser = sqlite_clinic.browser_client("practitioner")
    try:
        rule = _flag_of(browser.get(f"/clients/{client_id}").text)
    finally:
        browser.close()
    _, response = _post(sqlite_clinic, path, {"rule_id": rule, "reason": "   "},
                        f"/clients/{client_id}")  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["lift_reason"]
    _marked(html, "lift_reason", "reason", "lift_reason-hint")
    assert re.search(rf'<option value="{re.escape(rule)}" selected>', html)
    assert 'data-testid="flags"' in html  # nothing was lifted
    _only_errors_of(html, path)


def test_lifting_a_rule_with_no_flag_up_is_sent_back_marked_on_the_flag_keeping_the_reason(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["blocked"]
    path = f"/clients/{client_id}/flags/lift"
    form = {"rule_id": "no-such-rule", "reason": "letter from the cardiologist"}
    _, response = _post(sqlite_clinic, path, form, f"/clients/{client_id}")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["lift_rule_id"]
    _marked(html, "lift_rule_id", "rule_id")
    assert "letter from the cardiologist</textarea>" in html


def test_a_course_plan_of_no_months_is_sent_back_marked_keeping_every_choice(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    path = f"/clients/{client_id}/plans"
    form = {"template": "home-daily", "start": "2026-03-02", "months": "0", "price": "lots",
            "protocol_name": "pro-lift", "weekdays": ["tue", "sat"]}  # fmt: skip
    _, response = _post(sqlite_clinic, path, form, f"/clients/{client_id}")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["months"]
    assert 'value="0"' in _marked(html, "months", "months")
    assert 'value="lots"' in _control(html, "price")
    assert 'value="2026-03-02"' in _control(html, "start")
    assert re.search(r'<option value="home-daily" selected>', html)
    assert re.search(r'<option value="pro-lift" selected>', html)
    assert "checked" in _control(html, "plan-weekday-tue")
    assert "checked" in _control(html, "plan-weekday-sat")
    assert "checked" not in _control(html, "plan-weekday-mon")
    _only_errors_of(html, path)


def test_a_course_plan_priced_in_words_is_sent_back_marked_on_the_price(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    form = {"template": "clinic-initial", "start": "2026-03-02", "months": "3", "price": "lots"}
    _, response = _post(sqlite_clinic, f"/clients/{client_id}/plans", form,
                        f"/clients/{client_id}")  # fmt: skip
    assert response.status_code == 422
    assert _summary_links(response.text) == ["price"]
    assert 'value="lots"' in _marked(response.text, "price", "price")


def test_a_progress_entry_rated_in_words_is_sent_back_marked_on_each_rating(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    path = f"/clients/{client_id}/progress"
    form = {"taken_on": "2026-01-05", "rating_firmness": "seven", "rating_radiance": "8",
            "rating_evenness": "high", "notes": "jaw firmer"}  # fmt: skip
    _, response = _post(sqlite_clinic, path, form, f"/clients/{client_id}")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["r-firmness", "r-evenness"]
    assert 'value="seven"' in _marked(html, "r-firmness", "rating_firmness")
    assert 'value="high"' in _marked(html, "r-evenness", "rating_evenness")
    assert 'value="8"' in _control(html, "r-radiance")
    assert 'value="2026-01-05"' in _control(html, "taken_on")
    assert "jaw firmer</textarea>" in html
    assert 'class="error"' not in html
    _only_errors_of(html, path)


def test_feedback_with_a_comfort_of_eleven_is_sent_back_marked_keeping_what_was_felt(
    sqlite_clinic: Clinic,
) -> None:
    record_id = add_history(sqlite_clinic)
    form = {"comfort": "11", "tingling": "true", "redness": "true", "notes": "slight warmth"}
    _, response = _post(sqlite_clinic, f"/records/{record_id}/feedback", form,
                        f"/records/{record_id}")  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["comfort"]
    assert 'value="11"' in _marked(html, "comfort", "comfort")
    assert re.search(r'name="tingling" value="true" checked', html)
    assert re.search(r'name="redness" value="true" checked', html)
    assert not re.search(r'name="metallic_taste" value="true" checked', html)
    assert "slight warmth</textarea>" in html


def test_an_api_token_with_a_blank_name_is_sent_back_marked_and_no_token_is_made(
    sqlite_clinic: Clinic,
) -> None:
    _, response = _post(sqlite_clinic, "/account/tokens", {"name": "   "}, "/account")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["token-name"]
    assert 'value="   "' in _marked(html, "token-name", "name")
    assert 'data-testid="new-token"' not in html


def test_a_protocol_file_wrong_in_two_places_lists_both_and_marks_the_file_input(
    sqlite_clinic: Clinic,
) -> None:
    text = re.sub(r'muscle = "[^"]+"', 'muscle = "nosuchmuscle"', protocol_text("form-bad"))
    _, response = _post(sqlite_clinic, "/protocols/upload", {}, "/protocols", role="owner",
                        files={"file": ("bad.toml", text)})  # fmt: skip
    assert response.status_code == 422
    html = response.text
    links = _summary_links(html)
    assert links and set(links) == {"protocol-file"}
    _marked(html, "protocol-file", "file", "protocol-file-hint")
    assert "steps[0].muscle: " in html and "steps[1].muscle: " in html


def test_a_protocol_upload_without_a_file_links_to_the_file_input(sqlite_clinic: Clinic) -> None:
    _, response = _post(sqlite_clinic, "/protocols/upload", {}, "/protocols", role="owner")
    assert response.status_code == 422
    assert _summary_links(response.text) == ["protocol-file"]
    assert "Protocol file: choose a protocol file" in response.text


def test_prechecks_with_a_level_and_a_cap_out_of_range_send_back_a_fragment_marking_both(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    form = {"client_id": str(client_id), "protocol": "pro-express", "device_url": "sim://?load=gel",
            "intensity": "500", "practitioner_max_ua": "5"}  # fmt: skip
    _, response = _post(sqlite_clinic, "/console/prechecks", form, f"/console?client_id={client_id}",
                        headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert "<html" not in html, "a fragment, not a page"
    assert _summary_links(html) == ["intensity", "practitioner_max_ua"]
    assert "autofocus" in re.search(r'<div class="error-summary"[^>]*>', html).group(0)  # type: ignore[union-attr]
    assert re.search(r'<form[^>]*id="console-form"[^>]*hx-swap-oob="true"', html)
    _marked(html, "intensity", "intensity", "intensity-hint")
    assert 'value="5"' in _marked(
        html, "practitioner_max_ua", "practitioner_max_ua", "practitioner_max_ua-hint"
    )
    assert 'value="' + str(client_id) + '" checked' in _control(html, f"client-{client_id}")
    assert "aria-invalid" not in _control(html, f"client-{client_id}")
    assert 'data-testid="start"' not in html


def test_a_start_with_a_protocol_not_on_the_list_is_sent_back_as_the_console_marking_it(
    sqlite_clinic: Clinic,
) -> None:
    client_id = sqlite_clinic.clients["cleared"]
    form = {"client_id": str(client_id), "protocol": "no-such-protocol",
            "device_url": "sim://?load=gel", "intensity": "60", "practitioner_max_ua": "300"}  # fmt: skip
    _, response = _post(sqlite_clinic, "/console/start", form, f"/console?client_id={client_id}")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["protocol"]
    _marked(html, "protocol", "protocol")
    assert 'value="60"' in _control(html, "intensity")
    assert 'value="300"' in _control(html, "practitioner_max_ua")
    assert 'value="' + str(client_id) + '" checked' in _control(html, f"client-{client_id}")


def test_a_setup_form_with_a_bad_time_zone_takes_the_focus_to_its_summary_keeping_the_rest(
    tmp_path: Path,
) -> None:
    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, seeded=False) as empty:
        token = issue(empty)
        with empty.browser_client() as client:
            response = post_form(client, f"/setup/{token}", time_zone="Mars/Olympus")
    assert response.status_code == 422
    html = response.text
    assert _summary_links(html) == ["time_zone"]
    summary = re.search(r'<div class="error-summary"[^>]*>', html)
    assert summary and "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    assert 'value="Mars/Olympus"' in _marked(html, "time_zone", "time_zone", "time_zone-hint")
    assert 'value="Lima Skin Studio"' in _control(html, "clinic_name")
    assert "aria-invalid" not in _control(html, "clinic_name")
