"""Erasing a client from the clinic web app and the API, on SQLite and PostgreSQL: the owner
sees what goes and what stays, types the client's name, and she is gone from the client list,
search and the API while the audit chain still verifies; a retention hold says its rule and
the day it lifts, offers no erase button and refuses a forced erasure (409); the retention
setting is the owner's, checked and audited; every other role is refused (403)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date

import httpx
from PIL import Image
from sqlalchemy import select

from microamp.clinic.intake import nothing_to_report
from microamp.store.access import AuditEntry
from microamp.store.book_setup import get_settings, save_settings
from microamp.store.crud import create_client, record_consent, record_intake
from microamp.store.models import Client
from microamp.store.photos import add_progress_entry
from microamp.store.recording import SessionRecorder
from web.conftest import Clinic, csrf_of

BORN = date(1979, 6, 14)
DOSE = {"cheeks": {"zone": "cheeks", "charge_uc": 640.5, "stimulation_s": 240.0,
                   "mean_current_ua": 2.66875, "mean_impedance_ohm": 10_400.0}}  # fmt: skip


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (170, 130, 110)).save(out, "JPEG")
    return out.getvalue()


def client_with_history(clinic: Clinic, name: str) -> int:
    """A client with an intake form, a consent, a session treated today and a photo of it."""
    today = date.today()
    with clinic.store.transaction() as db:
        client = create_client(db, full_name=name, date_of_birth=BORN,
                               phone="+44 20 7946 0321")  # fmt: skip
        record_intake(db, client_id=client.id, answers=nothing_to_report(BORN), on=today,
                      today=today)  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature=name)
        client_id = client.id
    recorder = SessionRecorder.start(clinic.store, protocol_name="lift", client_id=client_id,
                                     device_url="sim://?load=gel")  # fmt: skip
    recorder.finish("completed", dose_by_zone=DOSE)
    with clinic.store.transaction() as db:
        add_progress_entry(db, client_id=client_id, taken_on=today, today=today, photo=_jpeg(),
                           treatment_session_id=recorder.session_id)  # fmt: skip
    return client_id


@contextmanager
def _retention(clinic: Clinic, years: int) -> Iterator[None]:
    """The clinic's retention setting at ``years`` for the block, then no hold again."""
    with clinic.store.transaction() as db:
        save_settings(db, retention_years=years)
    try:
        yield
    finally:
        with clinic.store.transaction() as db:
            save_settings(db, retention_years=0)


def _gone_everywhere(clinic: Clinic, client_id: int, name: str) -> None:
    """No page, search or API answer names her, and the audit chain verifies."""
    with closing(clinic.api("owner")) as api, closing(clinic.browser_client("owner")) as owner:
        assert api.get(f"/api/v1/clients/{client_id}").status_code == 404
        found = api.get("/api/v1/clients", params={"q": name.split()[-1]})
        assert (found.json(), found.headers["X-Total-Count"]) == ([], "0")
        listed = api.get("/api/v1/clients", params={"archived": "true", "limit": 500}).json()
        assert client_id not in [c["id"] for c in listed]
        searched = owner.get("/clients", params={"q": name.split()[-1], "archived": "1"}).text
        assert f'href="/clients/{client_id}"' not in searched
        assert owner.get(f"/clients/{client_id}").status_code == 404
        verdict = api.get("/api/v1/audit/verify").json()
    assert verdict["intact"] is True, verdict
    with clinic.store.session() as db:
        assert db.get(Client, client_id) is None
        last = db.scalars(select(AuditEntry).where(
            AuditEntry.resource == f"client:{client_id}", AuditEntry.action == "write",
        ).order_by(AuditEntry.seq.desc()).limit(1)).one()  # fmt: skip
    assert (last.resource, last.detail["change"], last.actor) == (
        f"client:{client_id}", "erased", clinic.emails["owner"])  # fmt: skip


def test_the_owner_erases_a_client_from_her_page_after_typing_her_name(clinic: Clinic) -> None:
    client_id = client_with_history(clinic, "Odile Marchetti")
    with closing(clinic.browser_client("owner")) as owner:
        shown = owner.get(f"/clients/{client_id}").text
        assert f'href="/clients/{client_id}/erase"' in shown and "Erase this client" in shown
        confirm = owner.get(f"/clients/{client_id}/erase")
        assert confirm.status_code == 200
        said = " ".join(confirm.text.split())
        for goes in (
            "1 intake forms, each with its screening",
            "1 consents",
            "1 photos",
            "0 visits in the book",
            "1 treatment records, as the dose delivered",
        ):
            assert goes in said, goes  # fmt: skip
        assert "The audit log" in said and "still verifies" in said
        wrong = owner.post(f"/clients/{client_id}/erase",
                           data={"confirm_name": "Odile", "csrf_token": csrf_of(confirm.text)})  # fmt: skip
        assert wrong.status_code == 422
        assert 'id="confirm_name-error"' in wrong.text and 'aria-invalid="true"' in wrong.text
        assert "Her name: type Odile Marchetti to erase her record" in wrong.text
        assert 'value="Odile"' in wrong.text
        with clinic.store.session() as db:
            assert db.get(Client, client_id) is not None
        erased = owner.post(f"/clients/{client_id}/erase",
                            data={"confirm_name": " odile  MARCHETTI ",
                                  "csrf_token": csrf_of(wrong.text)})  # fmt: skip
        assert (erased.status_code, erased.headers["location"]) == (
            303, f"/clients/{client_id}/erased")  # fmt: skip
        done = owner.get(f"/clients/{client_id}/erased")
        assert done.status_code == 200
        said = " ".join(done.text.split())
        assert "gone from the client list and from search" in said
        assert "1 intake forms" in said and "1 consents and 1 photos" in said
        assert "Odile" not in done.text
        # a client still on file was not erased
        other = clinic.clients["blocked"]
        assert owner.get(f"/clients/{other}/erased").status_code == 404
    _gone_everywhere(clinic, client_id, "Odile Marchetti")


def test_the_api_gives_the_plan_and_erases_when_confirmed(clinic: Clinic) -> None:
    client_id = client_with_history(clinic, "Priya Venkataraman")
    with closing(clinic.api("owner")) as api:
        plan = api.get(f"/api/v1/clients/{client_id}/erasure")
        assert plan.status_code == 200
        assert plan.json() == {
            "client_id": client_id, "full_name": "Priya Venkataraman", "intake_forms": 1,
            "records": 1, "photos": 1, "consents": 1, "visits": 0,
            "last_treatment": date.today().isoformat(), "retention_years": 0,
            "held_until": None, "held": False, "rule": "",
        }  # fmt: skip
        unconfirmed = api.post(f"/api/v1/clients/{client_id}/erasure", json={"confirm": False})
        assert unconfirmed.status_code == 422
        assert unconfirmed.json()["detail"][0]["loc"][-1] == "confirm"
        assert "an erasure cannot be undone" in unconfirmed.json()["detail"][0]["msg"]
        extra = api.post(f"/api/v1/clients/{client_id}/erasure",
                         json={"confirm": True, "force": True})  # fmt: skip
        assert extra.status_code == 422
        assert extra.json()["detail"][0]["loc"] == ["body", "force"]
        erased = api.post(f"/api/v1/clients/{client_id}/erasure", json={"confirm": True})
        assert erased.status_code == 200
        assert erased.json() == {"erased": True, "client_id": client_id, "intake_forms": 1,
                                 "records": 1, "photos": 1, "consents": 1, "visits": 0,
                                 "files": 0}  # fmt: skip
        for answer in (api.get(f"/api/v1/clients/{client_id}/erasure"),
                       api.post(f"/api/v1/clients/{client_id}/erasure", json={"confirm": True}),
                       api.get("/api/v1/clients/999999/erasure")):  # fmt: skip
            assert answer.status_code == 404
            assert "no client" in answer.json()["detail"]
        assert api.get("/api/v1/clients/0/erasure").status_code == 422
    _gone_everywhere(clinic, client_id, "Priya Venkataraman")


def test_a_retention_hold_names_its_rule_and_refuses_a_forced_erasure(clinic: Clinic) -> None:
    client_id = client_with_history(clinic, "Greta Lindqvist")
    today = date.today()
    leap_day = (today.month, today.day) == (2, 29)
    lifts = today.replace(year=today.year + 7, day=28 if leap_day else today.day)
    rule = f"records are kept 7 years after the last treatment ({today.isoformat()})"
    with _retention(clinic, 7), closing(clinic.browser_client("owner")) as owner, \
            closing(clinic.api("owner")) as api:  # fmt: skip
        page = owner.get(f"/clients/{client_id}/erase")
        assert page.status_code == 200
        said = " ".join(page.text.split())
        assert rule in said and f"held until {lifts.isoformat()}" in said
        assert 'data-testid="retention-hold"' in page.text
        assert f'action="/clients/{client_id}/erase"' not in page.text  # no erase button
        forced = owner.post(f"/clients/{client_id}/erase",
                            data={"confirm_name": "Greta Lindqvist",
                                  "csrf_token": csrf_of(page.text)})  # fmt: skip
        assert forced.status_code == 409
        assert "This client cannot be erased yet" in forced.text and rule in forced.text
        plan = api.get(f"/api/v1/clients/{client_id}/erasure").json()
        assert (plan["held"], plan["held_until"], plan["retention_years"]) == (
            True, lifts.isoformat(), 7)  # fmt: skip
        refused = api.post(f"/api/v1/clients/{client_id}/erasure", json={"confirm": True})
        assert refused.status_code == 409
        assert refused.json()["kind"] == "retention"
        assert rule in refused.json()["detail"]
        assert "changing the retention setting" in refused.json()["detail"]
    with clinic.store.session() as db:
        assert db.get(Client, client_id) is not None
    with closing(clinic.api("owner")) as api:
        assert api.post(f"/api/v1/clients/{client_id}/erasure", json={"confirm": True}).is_success


def test_other_roles_may_not_see_or_erase(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    for role in ("practitioner", "reception"):
        with closing(clinic.browser_client(role)) as browser, closing(clinic.api(role)) as api:
            assert "Erase this client" not in browser.get(f"/clients/{client_id}").text
            token = csrf_of(browser.get("/clients").text)
            answers = [
                browser.get(f"/clients/{client_id}/erase"),
                browser.post(f"/clients/{client_id}/erase",
                             data={"confirm_name": "Ana Lima", "csrf_token": token}),
                browser.get(f"/clients/{client_id}/erased"),
                api.get(f"/api/v1/clients/{client_id}/erasure"),
                api.post(f"/api/v1/clients/{client_id}/erasure", json={"confirm": True}),
            ]  # fmt: skip
            assert [a.status_code for a in answers] == [403] * 5, role
    with clinic.store.session() as db:
        assert db.get(Client, client_id) is not None


def _settings_form(owner: httpx.Client, **changes: str) -> dict[str, str]:
    """The clinic form as sent, with ``changes``, and the page's CSRF token."""
    token = csrf_of(owner.get("/settings/clinic").text)
    hours = {f"hours_{d}": "07:00-21:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return {"name": "Clinica Luz", "address": "", "time_zone": "UTC", "reminder_lead_hours": "24",
            "care_sheet": "", "retention_years": "0", **hours, "csrf_token": token,
            **changes}  # fmt: skip


def test_the_owner_sets_the_retention_years_checked_and_audited(clinic: Clinic) -> None:
    try:
        with closing(clinic.browser_client("owner")) as owner:
            shown = owner.get("/settings/clinic").text
            assert 'id="retention_years"' in shown and "0 is no hold" in shown
            for typed, message in (("101", "Records retention: 0-100 years (0: no hold)"),
                                   ("-1", "Records retention: a whole number"),
                                   ("", "Records retention: a whole number")):  # fmt: skip
                answer = owner.post("/settings/clinic",
                                    data=_settings_form(owner, retention_years=typed))  # fmt: skip
                assert answer.status_code == 422, typed
                assert 'id="retention_years-error"' in answer.text and message in answer.text
                assert f'name="retention_years" type="text" maxlength="3" value="{typed}"' in (
                    answer.text)  # fmt: skip
            saved = owner.post("/settings/clinic", data=_settings_form(owner, retention_years="10"))
            assert saved.status_code == 303
            assert 'value="10"' in owner.get("/settings/clinic").text
            # saved again unchanged: no second audit row
            again = owner.post("/settings/clinic", data=_settings_form(owner, retention_years="10"))
            assert again.status_code == 303
        with clinic.store.session() as db:
            assert get_settings(db).retention_years == 10
            changes = [e.detail for e in db.scalars(
                select(AuditEntry).where(AuditEntry.resource == "settings:retention"))]  # fmt: skip
        assert changes[-1] == {"change": "retention", "retention_years": 10, "was": 0}
        assert len([c for c in changes if c["retention_years"] == 10]) == 1
        with closing(clinic.browser_client("practitioner")) as practitioner:
            token = csrf_of(practitioner.get("/clients").text)
            refused = practitioner.post("/settings/clinic",
                                        data={"retention_years": "0", "csrf_token": token})  # fmt: skip
            assert refused.status_code == 403
    finally:
        with clinic.store.transaction() as db:
            save_settings(db, retention_years=0)
