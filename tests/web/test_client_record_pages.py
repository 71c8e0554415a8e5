"""The pages that keep a client record: edit (typed values kept on a bad one), archive, the
duplicate warning on adding, search by phone and health fields, merge with its confirmation,
the skin analysis form and its history, and the owner's note templates on the record page."""

from __future__ import annotations

import re
from contextlib import closing
from typing import Any

import httpx
from sqlalchemy import select

from microamp.store.access import AuditEntry
from microamp.store.crud import create_client
from web.conftest import Clinic, add_history, csrf_of


def _client(clinic: Clinic, name: str, **fields: Any) -> int:
    from datetime import date

    with clinic.store.transaction() as db:
        return create_client(db, full_name=name, date_of_birth=date(1975, 6, 7), **fields).id


def _post(browser: httpx.Client, page: str, path: str, **data: Any) -> httpx.Response:
    return browser.post(path, data={"csrf_token": csrf_of(browser.get(page).text)} | data)


def _control(html: str, element_id: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no control #{element_id}"
    return found.group(0)


def test_an_edit_with_a_bad_value_keeps_what_was_typed_and_a_good_one_is_audited(
    sqlite_clinic: Clinic,
) -> None:
    client_id = _client(sqlite_clinic, "Iris Edit")
    page = f"/clients/{client_id}/edit"
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        sent = _post(browser, page, page, full_name="Iris Edited", date_of_birth="1975-06-07",
                     email="not-an-address", phone="0600000000", allergies="nickel",
                     weekdays=["wed"])  # fmt: skip
        assert sent.status_code == 422
        assert '<a href="#email">Email: must be an email address</a>' in sent.text
        assert 'aria-invalid="true"' in _control(sent.text, "email")
        assert 'value="Iris Edited"' in _control(sent.text, "full_name")
        assert "nickel</textarea>" in sent.text
        assert "checked" in _control(sent.text, "weekday-wed")
        done = _post(browser, page, page, full_name="Iris Edited", date_of_birth="1975-06-07",
                     email="iris@example.org", allergies="nickel")  # fmt: skip
        assert done.status_code == 303
        shown = browser.get(f"/clients/{client_id}").text
        assert "Iris Edited" in shown and "nickel" in shown
    with closing(sqlite_clinic.browser_client("reception")) as browser:
        form = browser.get(page).text
        assert 'id="allergies"' not in form
        # reception's edit leaves the health fields alone
        _post(browser, page, page, full_name="Iris Edited", date_of_birth="1975-06-07",
              allergies="erased")  # fmt: skip
        assert "nickel" not in browser.get(f"/clients/{client_id}").text
    with sqlite_clinic.store.session() as db:
        details = [e.detail for e in db.scalars(
            select(AuditEntry).where(AuditEntry.resource == f"client:{client_id}"))]  # fmt: skip
    assert {"change": "edited", "fields": "full_name,email,allergies"} in details


def test_adding_a_possible_duplicate_shows_it_and_lets_the_user_go_on(
    sqlite_clinic: Clinic,
) -> None:
    first = _client(sqlite_clinic, "Jade Twin", email="jade@example.org")
    form = {"full_name": "Jade Twin", "date_of_birth": "1990-01-01", "email": "JADE@example.org"}
    with closing(sqlite_clinic.browser_client("reception")) as browser:
        warned = _post(browser, "/clients", "/clients", **form)
        assert warned.status_code == 409
        assert f'href="/clients/{first}"' in warned.text and "may be on file already" in warned.text
        assert 'value="Jade Twin"' in _control(warned.text, "full_name")
        added = _post(browser, "/clients", "/clients", allow_duplicate="1", **form)
        assert added.status_code == 303


def test_search_archive_and_merge_from_the_pages(sqlite_clinic: Clinic) -> None:
    kept = _client(sqlite_clinic, "Kim Keep", phone="07 11 22 33 44")
    duplicate = _client(sqlite_clinic, "Kim Keep", email="kim@example.org")
    with closing(sqlite_clinic.browser_client("reception")) as browser:
        assert f'href="/clients/{kept}"' in browser.get("/clients", params={"q": "0711223344"}).text
        assert browser.get(f"/clients/{kept}/merge").status_code == 403
        _post(browser, f"/clients/{duplicate}", f"/clients/{duplicate}/archive")
        assert (
            f'href="/clients/{duplicate}"' not in browser.get("/clients", params={"q": "Kim"}).text
        )
        listed = browser.get("/clients", params={"q": "Kim", "archived": "1"}).text
        assert f'href="/clients/{duplicate}"' in listed
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        merge = f"/clients/{kept}/merge"
        offered = browser.get(merge).text
        assert f'value="{duplicate}"' in offered and "likely the same" in offered
        unconfirmed = _post(browser, merge, merge, duplicate_id=str(duplicate))
        assert unconfirmed.status_code == 422
        assert "a merge cannot be undone" in unconfirmed.text
        assert "checked" in re.search(
            rf'<input[^>]*value="{duplicate}"[^>]*>', unconfirmed.text
        ).group(0)  # type: ignore[union-attr]
        done = _post(browser, merge, merge, duplicate_id=str(duplicate), confirm="yes")
        assert done.status_code == 303
        page = browser.get(done.headers["location"]).text
        assert "was merged into this record" in page and "kim@example.org" in page
        gone = browser.get(f"/clients/{duplicate}").text
        assert "This record was merged" in gone and "Edit details" not in gone


def test_a_skin_analysis_is_kept_with_its_history_and_a_bad_one_sent_back(
    sqlite_clinic: Clinic,
) -> None:
    client_id = _client(sqlite_clinic, "Lia Skin")
    page = f"/clients/{client_id}"
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        bad = _post(browser, page, f"{page}/skin", skin_kind="dry", fitzpatrick="II",
                    skin_concerns="fine lines", skin_notes="after summer")  # fmt: skip
        assert bad.status_code == 422
        assert '<a href="#laxity-0">Laxity:' in bad.text
        assert 'value="fine lines"' in _control(bad.text, "skin_concerns")
        assert "after summer</textarea>" in bad.text
        for kind, grade in (("dry", "1"), ("combination", "2")):
            sent = _post(browser, page, f"{page}/skin", skin_kind=kind, fitzpatrick="III",
                         laxity_grade=grade)  # fmt: skip
            assert sent.status_code == 303
        history = browser.get(page).text
        rows = re.findall(r"<tr><td>(\d)</td>", history.split('data-testid="skin-history"')[1])
        assert rows == ["2", "1"]
        assert "2 (moderate)" in history


def test_owner_templates_are_offered_on_the_record_page(sqlite_clinic: Clinic) -> None:
    add_history(sqlite_clinic)
    with sqlite_clinic.store.session() as db:
        from microamp.store.session_models import TreatmentSession

        record_id = db.scalars(select(TreatmentSession.id)).first()
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        assert browser.get("/note-templates").status_code == 403
    with closing(sqlite_clinic.browser_client("owner")) as browser:
        empty = _post(browser, "/note-templates", "/note-templates", name="Lift", body="  ")
        assert empty.status_code == 422 and 'value="Lift"' in empty.text
        saved = _post(browser, "/note-templates", "/note-templates", name="Lift",
                      body="Zones worked:\nReaction:")  # fmt: skip
        assert saved.status_code == 303
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        record = browser.get(f"/records/{record_id}").text
        assert 'data-body="Zones worked:\nReaction:"' in record and "/static/notes.js" in record


def test_the_client_page_shows_the_balance_of_her_packages(sqlite_clinic: Clinic) -> None:
    from datetime import date

    from microamp.store.packages import create_package, sell_package

    client_id = _client(sqlite_clinic, "Nia Package")
    with sqlite_clinic.store.transaction() as db:
        package = create_package(db, name="Four sessions", sessions=4, price_minor=40000,
                                 valid_days=30)  # fmt: skip
        sell_package(db, client_id=client_id, package_id=package.id, on=date.today())
    with closing(sqlite_clinic.browser_client("reception")) as browser:
        page = browser.get(f"/clients/{client_id}").text
    table = page.split('data-testid="packages"')[1].split("</table>")[0]
    assert "Four sessions" in table and "4 of 4" in table


def test_a_merge_that_would_book_her_twice_at_once_is_refused_beside_the_choice(
    sqlite_clinic: Clinic,
) -> None:
    from datetime import date, datetime, timedelta

    from microamp.store.book import book_appointment
    from microamp.store.book_models import Service
    from microamp.store.book_setup import list_rooms
    from microamp.store.models import User
    from web.conftest import add_book

    add_book(sqlite_clinic)
    kept = _client(sqlite_clinic, "Lia Twice", phone="07 55 66 77 88")
    duplicate = _client(sqlite_clinic, "Lia Twice", email="lia@example.org")
    day = date.today() + timedelta(days=3)
    with sqlite_clinic.store.transaction() as db:
        rooms = [r.id for r in list_rooms(db)][:2]
        service = db.scalar(select(Service.id).where(Service.name == "Lift facial"))
        clinical = list(db.scalars(select(User.id).where(User.role.in_(("owner", "practitioner")))))
        for client, room, who, minute in ((kept, rooms[0], clinical[0], 0),
                                          (duplicate, rooms[1], clinical[1], 30)):  # fmt: skip
            book_appointment(db, client_id=client, service_id=service, room_id=room,  # type: ignore[arg-type]
                             practitioner_id=who, start=datetime.combine(day, datetime.min.time()).replace(hour=12, minute=minute))  # fmt: skip
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        merge = f"/clients/{kept}/merge"
        refused = _post(browser, merge, merge, duplicate_id=str(duplicate), confirm="yes")
        assert refused.status_code == 409
        assert "12:00-13:00" in refused.text and "12:30-13:30" in refused.text
        assert "cancel or move one before merging" in refused.text
        assert "This record was merged" not in browser.get(f"/clients/{duplicate}").text
