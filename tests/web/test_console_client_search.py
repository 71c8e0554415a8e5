"""The console's client field: a search by name, phone or email (never the health fields)
offering at most ten clients as radios, the client already chosen (from her page, a visit, or a
refused precheck or start) offered and checked whatever is searched, and client 501 and on as
easy to treat as the first: the console no longer lists only the first 500 by name."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from microamp.clinic.intake import nothing_to_report
from microamp.store.base import utc_now
from microamp.store.crud import create_client, record_consent, record_intake
from microamp.store.leases import Lease, acquire, device_identity, release
from microamp.store.models import Client
from microamp.store.scratch import scratch_schema
from microamp.web.pages.client_choices import CLIENT_CHOICES
from support.databases import PG_ENV, SKIP_REASON
from web.conftest import Clinic, clinic_on, csrf_of

CLARAS = 12  # more than the console offers
CROWD = 510  # more than the 500 the console once listed, all before the last client by name
LAST = "Zelda Ultima"  # the client the old list never reached
DEVICE = "sim://?load=gel"


def add_crowd(clinic: Clinic, size: int = CROWD) -> int:
    """``size`` clients named before `LAST`, then `LAST` herself, screened clear and consented
    today; returns her id."""
    born = date(1985, 6, 15)
    with clinic.store.transaction() as db:
        for n in range(size):
            create_client(db, full_name=f"Aaron Crowd {n:03d}", date_of_birth=born)
        last = create_client(db, full_name=LAST, date_of_birth=born, email="zelda@mail.example")
        record_intake(db, client_id=last.id, answers=nothing_to_report(born), on=date.today(),
                      today=date.today())  # fmt: skip
        record_consent(db, client_id=last.id, typed_signature=LAST)
        return last.id


def add_desk(clinic: Clinic) -> None:
    """`CLARAS` Claras, and Dora Quist with an email, a phone and an allergy."""
    with clinic.store.transaction() as db:
        for n in range(CLARAS):
            create_client(db, full_name=f"Clara Nunes {n:02d}", date_of_birth=date(1990, 1, 1 + n))
        dora = create_client(db, full_name="Dora Quist", date_of_birth=date(1975, 5, 5),
                             email="dora@mail.example", phone="06 12 34 56 78")  # fmt: skip
        dora.allergies = "latex gloves"
        clinic.clients["dora"] = dora.id


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def console_clinic(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("console-search")
    if request.param == "sqlite":
        with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
            add_desk(served)
            served.clients["last"] = add_crowd(served)
            yield served
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url, clinic_on(url, data_dir) as served:
        add_desk(served)
        served.clients["last"] = add_crowd(served)
        yield served


@pytest.fixture(scope="module")
def nurse(console_clinic: Clinic) -> Iterator[httpx.Client]:
    """The practitioner, signed in once for the module."""
    with closing(console_clinic.browser_client("practitioner")) as signed_in:
        yield signed_in


def _choices(text: str) -> list[str]:
    """The names offered as radios, in order."""
    return re.findall(r'<label for="client-\d+">([^<]+)</label>', text)


def _checked(text: str) -> list[str]:
    """The values of the client radios checked."""
    return re.findall(
        r'<input type="radio" name="client_id" id="client-\d+" value="(\d+)" checked', text
    )


def _form(text: str, form_id: str) -> str:
    found = re.search(rf'<form[^>]*\bid="{form_id}".*?</form>', text, re.S)
    assert found, f"no form #{form_id}"
    return found.group(0)


def _prechecks(nurse: httpx.Client, **fields: str) -> httpx.Response:
    token = csrf_of(nurse.get("/console").text)
    form = {"protocol": "pro-express", "device_url": DEVICE, "intensity": "100",
            "practitioner_max_ua": "", "csrf_token": token} | fields  # fmt: skip
    return nurse.post("/console/prechecks", data=form, headers={"HX-Request": "true"})


def test_a_console_search_offers_the_matching_clients_as_radios(console_clinic: Clinic) -> None:
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        by_name = nurse.get("/console/clients", params={"client_q": "dora"})
        by_phone = nurse.get("/console/clients", params={"client_q": "0612"})
        by_mail = nurse.get("/console/clients", params={"client_q": "@mail.exa"})
    for answer in (by_name, by_phone, by_mail):
        assert answer.status_code == 200
        assert "Dora Quist" in _choices(answer.text)
    assert _choices(by_phone.text) == ["Dora Quist"]
    assert 'name="client_id"' in by_name.text
    assert "born 1975-05-05, dora@mail.example" in by_name.text


def test_the_console_search_never_looks_in_the_health_fields(console_clinic: Clinic) -> None:
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        answer = nurse.get("/console/clients", params={"client_q": "latex"})
    assert _choices(answer.text) == []
    assert "No client found for “latex”" in answer.text


def test_a_wide_console_search_offers_ten_and_asks_for_more_of_the_name(
    console_clinic: Clinic,
) -> None:
    with closing(console_clinic.browser_client("owner")) as owner:
        answer = owner.get("/console/clients", params={"client_q": "clara"})
    assert _choices(answer.text) == [f"Clara Nunes {n:02d}" for n in range(CLIENT_CHOICES)]
    assert 'data-testid="client-more"' in answer.text


def test_reception_may_not_search_from_the_console(console_clinic: Clinic) -> None:
    with closing(console_clinic.browser_client("reception")) as desk:
        assert desk.get("/console/clients", params={"client_q": "dora"}).status_code == 403
    with closing(console_clinic.browser_client()) as anonymous:
        answer = anonymous.get("/console/clients", params={"client_q": "dora"})
        assert answer.status_code in (303, 401) and "Dora" not in answer.text


@settings(max_examples=20, deadline=None)
@given(
    q=st.text(max_size=12) | st.text(alphabet="abcdlnuqrs0@ ", min_size=1, max_size=6),
    where=st.sampled_from(["/console/clients", "/console"]),
)
def test_the_chosen_client_stays_offered_and_checked_whatever_is_searched(
    console_clinic: Clinic, nurse: httpx.Client, q: str, where: str
) -> None:
    dora = console_clinic.clients["dora"]
    answer = nurse.get(where, params={"client_q": q, "client_id": str(dora)})
    assert answer.status_code == 200
    assert _choices(answer.text).count("Dora Quist") == 1
    assert _checked(answer.text) == [str(dora)]
    assert len(_choices(answer.text)) <= CLIENT_CHOICES + 1


def test_the_console_opened_for_a_client_offers_her_checked(console_clinic: Clinic) -> None:
    dora = console_clinic.clients["dora"]
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        page = nurse.get("/console", params={"client_id": str(dora)}).text
    assert _choices(page) == ["Dora Quist"] and _checked(page) == [str(dora)]
    assert "Search to choose the client" not in page


def test_the_console_searches_without_script_in_a_form_of_its_own(console_clinic: Clinic) -> None:
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        page = nurse.get("/console", params={"client_q": "Quist", "protocol": "pro-lift"})
    assert page.status_code == 200
    assert _choices(page.text) == ["Dora Quist"]
    find = _form(page.text, "client-find")
    assert 'method="get" action="/console"' in find and 'value="pro-lift"' in find
    assert 'name="client_id"' not in find  # the search form posts no client of its own
    console = _form(page.text, "console-form")
    assert 'id="client-find"' not in console
    box = re.search(r'<input id="client_q"[^>]*>', console)
    assert box and 'form="client-find"' in box.group(0) and 'value="Quist"' in box.group(0)
    # every client_id control of the console's form is a radio of the choices
    assert re.findall(r'<input[^>]*name="client_id"[^>]*>', console) == re.findall(
        r'<input type="radio" name="client_id"[^>]*>', console
    )


def test_client_501_and_on_is_found_and_a_precheck_runs_for_her(console_clinic: Clinic) -> None:
    last = console_clinic.clients["last"]
    with console_clinic.store.session() as db:
        before = db.scalar(select(func.count()).select_from(Client).where(Client.full_name < LAST))
    assert before is not None and before >= 500  # past the old list of the first 500 by name
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        found = nurse.get("/console/clients", params={"client_q": "zelda"})
        opened = nurse.get("/console", params={"client_id": str(last)})
        checks = _prechecks(nurse, client_id=str(last), client_q="zelda")
    assert _choices(found.text) == [LAST]
    assert _checked(opened.text) == [str(last)]
    assert checks.status_code == 200, checks.text
    assert f"for {LAST}" in checks.text
    assert 'data-testid="start"' in checks.text
    assert f'name="client_id" value="{last}"' in checks.text


def test_a_refused_precheck_keeps_the_client_chosen_and_the_search(console_clinic: Clinic) -> None:
    dora = console_clinic.clients["dora"]
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        answer = _prechecks(nurse, client_id=str(dora), client_q="clara", intensity="500")
    assert answer.status_code == 422
    console = _form(answer.text, "console-form")
    assert 'hx-swap-oob="true"' in console
    assert _choices(console)[0] == "Dora Quist" and _checked(console) == [str(dora)]
    assert _choices(console)[1:] == [f"Clara Nunes {n:02d}" for n in range(CLIENT_CHOICES)]
    assert re.search(r'<input id="client_q"[^>]*value="clara"', console)
    assert "Level (%): a level of 1-100 %" in answer.text


def test_a_precheck_without_a_client_sends_the_reader_to_the_search(
    console_clinic: Clinic,
) -> None:
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        answer = _prechecks(nurse, client_q="clara")
    assert answer.status_code == 422
    assert '<a href="#client_q">Client: choose a client</a>' in answer.text
    assert re.search(r'<fieldset class="field client-field" aria-invalid="true">', answer.text)
    assert re.search(r'<input id="client_q"[^>]*aria-describedby="client_q-hint client_id-error"',
                     answer.text)  # fmt: skip
    assert _checked(answer.text) == [] and len(_choices(answer.text)) == CLIENT_CHOICES


def test_a_refused_start_keeps_the_client_chosen_and_the_search(console_clinic: Clinic) -> None:
    dora = console_clinic.clients["dora"]
    with console_clinic.store.transaction() as db:  # another room's session holds the device
        held = acquire(db, device=device_identity(DEVICE), holder="another-room", now=utc_now())
    assert isinstance(held, Lease)
    try:
        with closing(console_clinic.browser_client("practitioner")) as nurse:
            token = csrf_of(nurse.get("/console").text)
            answer = nurse.post("/console/start", data={
                "client_id": str(dora), "protocol": "pro-express", "device_url": DEVICE,
                "intensity": "100", "practitioner_max_ua": "", "client_q": "nunes 0",
                "csrf_token": token})  # fmt: skip
    finally:
        with console_clinic.store.transaction() as db:
            release(db, held)
    assert answer.status_code == 409, answer.text
    assert 'data-testid="start-error"' in answer.text
    assert _checked(answer.text) == [str(dora)]
    assert _choices(answer.text) == ["Dora Quist"] + [f"Clara Nunes {n:02d}" for n in range(10)]
    assert re.search(r'<input id="client_q"[^>]*value="nunes 0"', answer.text)


def test_a_start_refused_for_its_choices_keeps_the_client_typed(
    console_clinic: Clinic,
) -> None:
    dora = console_clinic.clients["dora"]
    with closing(console_clinic.browser_client("practitioner")) as nurse:
        token = csrf_of(nurse.get("/console").text)
        answer = nurse.post("/console/start", data={
            "client_id": str(dora), "protocol": "no-such-protocol", "device_url": DEVICE,
            "intensity": "100", "csrf_token": token})  # fmt: skip
    assert answer.status_code == 422
    assert _checked(answer.text) == [str(dora)] and _choices(answer.text) == ["Dora Quist"]
