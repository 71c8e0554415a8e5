"""The booking form's client field: a search by name, phone or email (never the health
fields: reception books) offering at most ten clients as radios, the one chosen kept through a
new search and through a refused booking, and a missing client named beside the search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from microamp.store.book_setup import list_rooms, list_services
from microamp.store.crud import create_client
from microamp.store.models import User
from microamp.web.pages.client_choices import CLIENT_CHOICES
from web.conftest import Clinic, add_book, clinic_on, csrf_of

CLARAS = 12  # more than the form offers


@pytest.fixture(scope="module")
def desk_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("book-search")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        add_book(served)
        with served.store.transaction() as db:
            for n in range(CLARAS):
                create_client(
                    db, full_name=f"Clara Nunes {n:02d}", date_of_birth=date(1990, 1, 1 + n)
                )
            dora = create_client(db, full_name="Dora Quist", date_of_birth=date(1975, 5, 5),
                                 email="dora@mail.example", phone="06 12 34 56 78")  # fmt: skip
            dora.allergies = "latex gloves"
            served.clients["dora"] = dora.id
        yield served


def _choices(text: str) -> list[str]:
    """The names offered as radios, in order."""
    return re.findall(r'<label for="client-\d+">([^<]+)</label>', text)


def test_a_search_offers_the_matching_clients_as_radios(desk_clinic: Clinic) -> None:
    with closing(desk_clinic.browser_client("reception")) as desk:
        by_name = desk.get("/book/clients", params={"client_q": "dora"})
        by_phone = desk.get("/book/clients", params={"client_q": "0612"})
        by_mail = desk.get("/book/clients", params={"client_q": "@mail.exa"})
    for answer in (by_name, by_phone, by_mail):
        assert answer.status_code == 200
        assert _choices(answer.text) == ["Dora Quist"]
    assert 'name="client_id"' in by_name.text and "born 1975-05-05" in by_name.text


def test_a_search_never_looks_in_the_health_fields(desk_clinic: Clinic) -> None:
    with closing(desk_clinic.browser_client("practitioner")) as nurse:
        answer = nurse.get("/book/clients", params={"client_q": "latex"})
    assert _choices(answer.text) == []
    assert "No client found for “latex”" in answer.text


def test_a_wide_search_offers_ten_and_asks_for_more_of_the_name(desk_clinic: Clinic) -> None:
    with closing(desk_clinic.browser_client("reception")) as desk:
        answer = desk.get("/book/clients", params={"client_q": "clara"})
    assert _choices(answer.text) == [f"Clara Nunes {n:02d}" for n in range(CLIENT_CHOICES)]
    assert 'data-testid="client-more"' in answer.text


@settings(max_examples=15, deadline=None)
@given(q=st.text(alphabet="abcdlnuqrs ", min_size=1, max_size=6))
def test_the_chosen_client_stays_offered_and_checked_whatever_is_searched(
    desk_clinic: Clinic, q: str
) -> None:
    dora = desk_clinic.clients["dora"]
    with closing(desk_clinic.browser_client("reception")) as desk:
        answer = desk.get("/book/clients", params={"client_q": q, "client_id": str(dora)})
    assert answer.status_code == 200
    assert _choices(answer.text).count("Dora Quist") == 1
    assert f'value="{dora}" checked' in answer.text
    assert len(_choices(answer.text)) <= CLIENT_CHOICES + 1


def test_the_page_searches_without_script_and_keeps_the_day(desk_clinic: Clinic) -> None:
    with closing(desk_clinic.browser_client("reception")) as desk:
        page = desk.get("/book", params={"client_q": "Quist", "day": "2027-03-02"})
    assert page.status_code == 200
    assert _choices(page.text) == ["Dora Quist"]
    assert 'form="client-find"' in page.text and 'value="2027-03-02"' in page.text


def test_an_overlong_search_is_refused_naming_the_field(desk_clinic: Clinic) -> None:
    with closing(desk_clinic.browser_client("reception")) as desk:
        answer = desk.get("/book/clients", params={"client_q": "x" * 201})
    assert answer.status_code == 422 and "client_q" in answer.text


def _booking(clinic: Clinic, **fields: str) -> tuple[int, str]:
    with closing(clinic.browser_client("reception")) as desk:
        token = csrf_of(desk.get("/book").text)
        with clinic.store.session() as db:
            room = list_rooms(db)[0].id
            service = list_services(db)[0].id
            nurse = db.scalar(select(User.id).where(User.role == "practitioner"))
        form = {"service_id": str(service), "room_id": str(room), "practitioner_id": str(nurse),
                "day": "2027-03-02", "start": "09:00", "csrf_token": token} | fields  # fmt: skip
        answer = desk.post("/book", data=form)
    return answer.status_code, answer.text


def test_a_booking_without_a_client_names_the_client_and_links_to_the_search(
    desk_clinic: Clinic,
) -> None:
    status, text = _booking(desk_clinic)
    assert status == 422
    assert '<a href="#client_q">Client: choose one</a>' in text
    assert 'id="client_id-error"' in text


def test_a_refused_booking_keeps_the_client_chosen(desk_clinic: Clinic) -> None:
    dora = desk_clinic.clients["dora"]
    status, text = _booking(desk_clinic, client_id=str(dora), start="nine")
    assert status == 422 and "Start: a time as HH:MM" in text
    assert _choices(text) == ["Dora Quist"] and f'value="{dora}" checked' in text
