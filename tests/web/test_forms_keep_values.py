"""Every form of the clinic's pages and of the home app, sent with a bad value, plainly and as htmx sends it: the
form comes back (422, or 409 for a conflict) with a summary linking to the field, the field
marked invalid and described by its own message, which sits beside it, and every value typed
kept (a password never)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select

from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.store.book_setup import add_service
from microamp.store.models import User
from microamp.store.packages import create_package
from microamp.store.previsit import create_link, link_token
from web.conftest import Clinic, add_history, csrf_of, sign_in
from web.home_served import HOME_PASSWORD, Home, home_on
from web.test_form_errors import _control

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/"}


@dataclass(frozen=True)
class Case:
    """One form sent with a bad value. Paths may name ``{cleared}`` (a client), ``{record}``
    (a session record), ``{staff}`` and ``{owner}`` (user ids) or ``{token}`` (a pre-visit
    link); ``kept`` maps a control's id to the value it must show again."""

    name: str
    role: str | None
    page: str
    action: str
    data: dict[str, str | list[str]]
    target: str
    field: str
    message: str
    kept: dict[str, str] = field(default_factory=dict)
    status: int = 422
    hint: str = ""
    secret: str = ""


CASES = [
    Case("new client", "practitioner", "/clients", "/clients",
         {"full_name": "Tomorrow's Child", "date_of_birth": "2999-01-01", "phone": "+1 555 0100",
          "concerns": "jawline", "skin_type": "III", "weekdays": ["tue", "fri"]},
         "date_of_birth", "date_of_birth", "is in the future",
         {"full_name": "Tomorrow's Child", "phone": "+1 555 0100", "concerns": "jawline",
          "skin_type": "III", "weekday-tue": "on", "weekday-fri": "on"}),
    Case("client edit", "practitioner", "/clients/{cleared}/edit", "/clients/{cleared}/edit",
         {"full_name": "Ana Lima", "date_of_birth": "1988-04-12", "email": "not-an-address",
          "phone": "0600000000", "allergies": "nickel", "weekdays": ["wed"]},
         "email", "email", "must be an email address",
         {"full_name": "Ana Lima", "phone": "0600000000", "allergies": "nickel",
          "weekday-wed": "on"}),
    Case("intake", "practitioner", "/clients/{cleared}/intake", "/clients/{cleared}/intake",
         {"date_of_birth": "1988-04-12", "pregnant": "no"},
         "diabetes-yes", "diabetes", "answer yes or no",
         {"date_of_birth": "1988-04-12", "pregnant-no": "on"}),
    Case("client merge", "practitioner", "/clients/{cleared}/merge?q=Ben",
         "/clients/{cleared}/merge", {"duplicate_id": "{blocked}"}, "confirm", "confirm", "",
         hint="confirm-hint"),
    Case("consent", "practitioner", "/clients/{cleared}", "/clients/{cleared}/consent",
         {"typed_signature": "Someone Else"}, "typed_signature", "typed_signature",
         "Ana Lima", {"typed_signature": "Someone Else"}),
    Case("clearance", "practitioner", "/clients/{cleared}", "/clients/{cleared}/clearance",
         {"physician_name": "  ", "issued_on": "2020-02-03", "valid_until": "2030-02-03",
          "document_ref": "letter 7"},
         "physician_name", "physician_name", "",
         {"issued_on": "2020-02-03", "valid_until": "2030-02-03", "document_ref": "letter 7"}),
    Case("flag lifted", "practitioner", "/clients/{cleared}", "/clients/{cleared}/flags/lift",
         {"rule_id": "no-such-rule", "reason": "letter from the cardiologist"},
         "lift_rule_id", "rule_id", "", {"lift_reason": "letter from the cardiologist"}),
    Case("course plan", "practitioner", "/clients/{cleared}", "/clients/{cleared}/plans",
         {"template": "home-daily", "start": "2026-03-02", "months": "0", "price": "120",
          "protocol_name": "pro-lift", "weekdays": ["tue", "sat"]},
         "months", "months", "",
         {"months": "0", "price": "120", "start": "2026-03-02", "template": "home-daily",
          "protocol_name": "pro-lift", "plan-weekday-tue": "on", "plan-weekday-sat": "on"}),
    Case("progress entry", "practitioner", "/clients/{cleared}", "/clients/{cleared}/progress",
         {"taken_on": "2026-01-05", "rating_firmness": "seven", "rating_radiance": "8",
          "notes": "jaw firmer"},
         "r-firmness", "rating_firmness", "",
         {"r-firmness": "seven", "r-radiance": "8", "taken_on": "2026-01-05",
          "pnotes": "jaw firmer"}),
    Case("skin analysis", "practitioner", "/clients/{cleared}", "/clients/{cleared}/skin",
         {"skin_kind": "dry", "fitzpatrick": "II", "skin_concerns": "fine lines",
          "skin_notes": "after summer"},
         "laxity-0", "laxity_grade", "",
         {"skin_kind": "dry", "fitzpatrick": "II", "skin_concerns": "fine lines",
          "skin_notes": "after summer"}),
    Case("session feedback", "practitioner", "/records/{record}", "/records/{record}/feedback",
         {"comfort": "11", "tingling": "true", "notes": "slight warmth"},
         "comfort", "comfort", "", {"comfort": "11", "notes": "slight warmth"}),
    Case("note template", "owner", "/note-templates", "/note-templates",
         {"name": "Lift", "body": "  "}, "body", "body", "", {"name": "Lift"}),
    Case("package", "owner", "/packages", "/packages",
         {"name": "Six lifts", "sessions": "6", "price": "600.005", "valid_days": "180"},
         "price", "price", "at most 2 decimals",
         {"name": "Six lifts", "sessions": "6", "price": "600.005", "valid_days": "180"}),
    Case("package sold", "reception", "/clients/{cleared}", "/clients/{cleared}/packages",
         {"package_id": ""}, "sale_package", "package_id", "choose a package"),
    Case("payment", "reception", "/clients/{cleared}", "/clients/{cleared}/payments",
         {"amount": "lots", "method": "card", "reference": "POS 4411"},
         "pay_amount", "amount", "", {"pay_amount": "lots", "pay_method": "card",
                                      "pay_reference": "POS 4411"}),
    Case("staff added", "owner", "/staff", "/staff",
         {"email": "not an address", "display_name": "Nina Nurse", "role": "reception"},
         "new-email", "email", "", {"new-email": "not an address", "new-name": "Nina Nurse",
                                    "new-role": "reception"}),
    Case("staff role", "owner", "/staff", "/staff/{staff}/role", {"role": "janitor"},
         "role-{staff}", "role-{staff}", "must be one of"),
    Case("last owner demoted", "owner", "/staff", "/staff/{owner}/role", {"role": "reception"},
         "role-{owner}", "role-{owner}", "owner", status=409),
    Case("sign in", None, "/signin", "/signin",
         {"email": "nobody@test.example", "password": "not the password"},
         "email", "email", "do not match", {"email": "nobody@test.example"}, status=401,
         secret="not the password"),
    Case("two-factor setup", "practitioner", "/account/two-factor", "/account/two-factor",
         {"code": "000000"}, "code", "code", "not right"),
    Case("api token", "practitioner", "/account", "/account/tokens", {"name": "   "},
         "token-name", "name", ""),
    Case("own password", "practitioner", "/account/password", "/account/password",
         {"current": "not my password", "new": "a brand new long password 7",
          "again": "a brand new long password 7"},
         "current-password", "current", "not right", secret="a brand new long password 7"),
    Case("mail settings", "owner", "/settings/mail", "/settings/mail",
         {"host": "mail.example.org", "port": "smtp", "tls_mode": "tls", "username": "desk",
          "password": "do not show me", "from_address": "desk@clinic.example"},
         "port", "port", "must be a port number",
         {"host": "mail.example.org", "port": "smtp", "tls_mode-tls": "on", "username": "desk",
          "from_address": "desk@clinic.example"}, secret="do not show me"),
    Case("mail test", "owner", "/settings/mail", "/settings/mail/test", {"to": "ana"},
         "test-to", "to", "one email address", {"test-to": "ana"}),
    Case("protocol upload", "owner", "/protocols", "/protocols/upload", {},
         "protocol-file", "file", "choose a protocol file", hint="protocol-file-hint"),
    Case("pre-visit form", None, "/previsit/{token}", "/previsit/{token}",
         {"typed_signature": "Ana Lima", "heart_condition": "yes"},
         "diabetes-yes", "diabetes", "answer yes or no", {"typed_signature": "Ana Lima",
                                                          "heart_condition-yes": "on"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def places(sqlite_clinic: Clinic) -> Iterator[dict[str, str]]:
    """What the paths name: a client, a record, a staff member, a pre-visit link; a package
    on sale so that the sale form shows."""
    record = add_history(sqlite_clinic)
    with sqlite_clinic.store.transaction() as db:
        service = add_service(db, name="Forms facial", duration_min=60).id
        create_package(db, name="Three lifts", service_id=service, sessions=3, price_minor=30000)
        staff = db.scalar(select(User.id).where(User.role == "practitioner"))
        owner = db.scalar(select(User.id).where(User.role == "owner"))
        link = create_link(db, client_id=sqlite_clinic.clients["cleared"], created_by_id=staff)
        token = link_token(sqlite_clinic.app.state.link_key, link)
    yield {"cleared": str(sqlite_clinic.clients["cleared"]), "record": str(record),
           "blocked": str(sqlite_clinic.clients["blocked"]),
           "staff": str(staff), "owner": str(owner), "token": token}  # fmt: skip


def _filled(case: Case, places: dict[str, str]) -> Case:
    def fill(text: str) -> str:
        return text.format(**places)

    data = {k: fill(v) if isinstance(v, str) else v for k, v in case.data.items()}
    return Case(
        case.name, case.role, fill(case.page), fill(case.action), data, fill(case.target),
        fill(case.field), case.message, case.kept, case.status, case.hint, case.secret,
    )  # fmt: skip


def _send(clinic: Clinic, case: Case, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=clinic.url, timeout=30, follow_redirects=False) as browser:
        if case.role is not None:
            sign_in(browser, clinic.emails[case.role], "a long test password")
        token = csrf_of(browser.get(case.page).text)
        files = {"file": ("", b"")} if case.action == "/protocols/upload" else None
        return browser.post(case.action, data=case.data | {"csrf_token": token},
                            files=files, headers=headers)  # fmt: skip


def _shows_again(html: str, element_id: str, value: str) -> None:
    """The control ``element_id`` shows ``value`` again (for a box or a radio: it is ticked)."""
    control = _control(html, element_id)
    if control.startswith("<textarea"):
        found = re.search(rf'<textarea[^>]*\bid="{element_id}"[^>]*>(.*?)</textarea>', html, re.S)
        assert found and found.group(1).strip() == str(escape(value)), control
    elif control.startswith("<select"):
        found = re.search(rf'<select[^>]*\bid="{element_id}".*?</select>', html, re.S)
        assert found, control
        chosen = re.search(rf'<option value="{re.escape(str(escape(value)))}"\s*selected', found[0])
        assert chosen, f"{value!r} is not chosen in #{element_id}"
    elif re.search(r'type="(checkbox|radio)"', control):
        assert re.search(r"\bchecked\b", control), control
    else:
        assert f'value="{escape(value)}"' in control, control


def _group_of(html: str, radio: str) -> str:
    """The opening tag of the fieldset around ``radio`` when that fieldset is what is marked
    (a group of radio buttons, the GOV.UK way), else the radio button itself."""
    before = html[: html.index(radio)]
    opened = before.rfind("<fieldset")
    if opened < 0 or before.rfind("</fieldset>") > opened:
        return radio
    tag = html[opened : html.index(">", opened) + 1]
    return tag if "aria-describedby" in tag else radio


def _marked_beside(html: str, case: Case) -> None:
    summaries = re.findall(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summaries, "no error summary"
    assert f'<a href="#{case.target}">' in "".join(summaries)
    control = _control(html, case.target)
    marked = _group_of(html, control) if 'type="radio"' in control else control
    assert 'aria-invalid="true"' in marked or marked.startswith("<fieldset"), marked
    described = re.search(r'aria-describedby="([^"]+)"', marked)
    assert described and f"{case.field}-error" in described.group(1).split(), control
    if case.hint:
        assert case.hint in described.group(1).split()
    message = re.search(rf'<p class="field-error" id="{re.escape(case.field)}-error">(.*?)</p>',
                        html, re.S)  # fmt: skip
    assert message, f"no message #{case.field}-error"
    assert case.message in message.group(1)
    # beside its field: the message comes before the control, in the same field
    between = html[html.index(message.group(0)) : html.index(control)]
    assert len(between) < 2000 and "<form" not in between, "the message is far from its field"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_value_sends_the_form_back_marked_beside_its_field_keeping_what_was_typed(
    sqlite_clinic: Clinic, places: dict[str, str], case: Case, htmx: bool
) -> None:
    case = _filled(case, places)
    answer = _send(sqlite_clinic, case, HTMX if htmx else {})
    assert answer.status_code == case.status, answer.text[:500]
    html = answer.text
    assert f'action="{case.action}"' in html  # the form itself again, not an error page
    _marked_beside(html, case)
    for element_id, value in case.kept.items():
        _shows_again(html, element_id, value)
    if case.secret:
        assert case.secret not in html


# -- the home app's forms ------------------------------------------------------------------------

_ALL_NO = {key: "no" for key in BOOLEAN_KEYS}

HOME_CASES = [
    Case("welcome", None, "/welcome", "/welcome",
         {"display_name": "Rosa", "date_of_birth": "2099-01-01", "password": HOME_PASSWORD,
          "password_again": HOME_PASSWORD},
         "date_of_birth", "date_of_birth", "", {"display_name": "Rosa"}, secret=HOME_PASSWORD),
    Case("routine settings", "home", "/settings", "/settings",
         {"level-forehead": "7", "level-cheeks": "0.5", "skip": ["neck"]},
         "level-forehead", "level-forehead", "level must be",
         {"level-cheeks": "0.5"}),
    Case("routine builder", "home", "/build", "/build",
         {"title": "Mine", "cue_interval_s": "5.0", "muscle-0": "frontalis", "reps-0": "9",
          "seconds-0": "5.0"},
         "reps-0", "reps-0", "must be one of", {"title": "Mine", "muscle-0": "frontalis"}),
    Case("health and consent", "home", "/health", "/health",
         {**_ALL_NO, "typed_signature": "Someone Else"},
         "typed_signature", "typed_signature", "", {"typed_signature": "Someone Else",
                                                    "diabetes-no": "on"}),
]  # fmt: skip


def _home_send(home: Home, case: Case, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=home.url, timeout=30, follow_redirects=False) as phone:
        if case.role is not None:
            token = csrf_of(phone.get("/welcome").text)
            made = phone.post("/welcome", data={
                "csrf_token": token, "display_name": "Ines", "date_of_birth": "1979-02-03",
                "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
            })  # fmt: skip
            assert made.status_code == 303
        token = csrf_of(phone.get(case.page).text)
        return phone.post(case.action, data=case.data | {"csrf_token": token}, headers=headers)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("case", HOME_CASES, ids=[c.name for c in HOME_CASES])
def test_a_bad_value_on_a_home_form_comes_back_marked_keeping_what_was_typed(
    tmp_path: Path, case: Case, htmx: bool
) -> None:
    with home_on(tmp_path) as home:
        answer = _home_send(home, case, HTMX if htmx else {})
    assert answer.status_code == case.status, answer.text[:500]
    html = answer.text
    assert f'action="{case.action}"' in html
    _marked_beside(html, case)
    for element_id, value in case.kept.items():
        _shows_again(html, element_id, value)
    if case.secret:
        assert case.secret not in html
