"""Every security event leaves an audit row, on SQLite and PostgreSQL: a refusal (403) by role,
an API token made or revoked, the intake form opened (a blank one too), the sessions under way
listed or read over the API, the live stream opened, and every control from the page and the
API, each with its actor."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from microamp.store.access import AuditEntry
from microamp.store.crud import create_client
from web.conftest import Clinic, csrf_of
from web.test_api_intensity import start_session, wait_done


def last_seq(clinic: Clinic) -> int:
    with clinic.store.session() as db:
        return int(db.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0)


def rows_since(clinic: Clinic, seq: int, action: str) -> list[AuditEntry]:
    with clinic.store.session() as db:
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > seq, AuditEntry.action == action)
                .order_by(AuditEntry.seq)
            )
        )


def test_a_refusal_by_role_is_audited_from_a_page_and_the_api(clinic: Clinic) -> None:
    before = last_seq(clinic)
    page = clinic.browser_client("reception")
    try:
        assert page.get("/protocols").status_code == 403
    finally:
        page.close()
    with clinic.api("reception") as api:
        assert api.get("/api/v1/staff").status_code == 403
    refused = rows_since(clinic, before, "auth.refused")
    assert [(r.actor, r.resource) for r in refused] == [
        (clinic.emails["reception"], "GET /protocols"),
        (clinic.emails["reception"], "GET /api/v1/staff"),
    ]
    assert all(r.detail["outcome"] == "refused" and r.detail["address"] for r in refused)


def test_a_form_refused_for_its_csrf_token_is_audited(clinic: Clinic) -> None:
    before = last_seq(clinic)
    page = clinic.browser_client("practitioner")
    try:
        assert page.post("/account/tokens", data={"name": "forged"}).status_code == 403
    finally:
        page.close()
    refused = rows_since(clinic, before, "auth.refused")
    assert [(r.actor, r.resource, r.detail["reason"]) for r in refused] == [
        (clinic.emails["practitioner"], "POST /account/tokens", "no valid CSRF token")
    ]
    assert rows_since(clinic, before, "auth.token_created") == []


def test_an_api_token_made_and_revoked_is_audited(clinic: Clinic) -> None:
    before = last_seq(clinic)
    page = clinic.browser_client("practitioner")
    try:
        made = page.post(
            "/account/tokens",
            data={"name": "audit probe", "csrf_token": csrf_of(page.get("/account").text)},
        )
        assert made.status_code == 200
        created = rows_since(clinic, before, "auth.token_created")
        assert [r.detail["name"] for r in created] == ["audit probe"]
        token_id = int(created[0].resource.removeprefix("token:"))
        revoked = page.post(
            f"/account/tokens/{token_id}/revoke",
            data={"csrf_token": csrf_of(page.get("/account").text)},
        )
        assert revoked.status_code == 303
    finally:
        page.close()
    gone = rows_since(clinic, before, "auth.token_revoked")
    assert [(r.actor, r.resource) for r in gone] == [
        (clinic.emails["practitioner"], f"token:{token_id}")
    ]


def test_opening_a_blank_intake_form_is_a_read(clinic: Clinic) -> None:
    with clinic.store.transaction() as db:
        new = create_client(db, full_name="Cleo Park", date_of_birth=date(1990, 2, 2))
        client_id = new.id
    before = last_seq(clinic)
    page = clinic.browser_client("practitioner")
    try:
        assert page.get(f"/clients/{client_id}/intake").status_code == 200
    finally:
        page.close()
    reads = rows_since(clinic, before, "read")
    assert [(r.resource, r.client_id) for r in reads] == [(f"client:{client_id}/intake", client_id)]


def test_sessions_read_and_controlled_over_the_api_are_audited(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    with clinic.api("practitioner") as api:
        live = start_session(api, clinic)
        before = last_seq(clinic)
        listed = api.get("/api/v1/sessions")
        assert listed.status_code == 200
        assert api.get(f"/api/v1/sessions/{live['id']}").status_code == 200
        assert api.post(f"/api/v1/sessions/{live['id']}/intensity", json={"level": 0.5}).is_success
        assert api.post(f"/api/v1/sessions/{live['id']}/stop").status_code == 200
    reads = rows_since(clinic, before, "read")
    running = [r for r in reads if r.resource == "sessions"]
    assert running and str(client_id) in running[0].detail["clients"].split(",")
    assert any(r.resource == f"client:{client_id}/session" for r in reads)
    controls = [r.detail.get("control") for r in rows_since(clinic, before, "write")]
    assert controls == ["intensity", "stop"]


def test_the_live_stream_and_the_pages_controls_are_audited(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    with clinic.api("practitioner") as api:
        live = start_session(api, clinic)
        page = clinic.browser_client("practitioner")
        try:
            token = csrf_of(page.get(f"/live/{live['id']}").text)
            before = last_seq(clinic)
            with page.stream("GET", f"/live/{live['id']}/events") as events:
                assert events.status_code == 200
                next(events.iter_lines())
            headers = {"x-csrf-token": token}
            assert page.post(f"/live/{live['id']}/pause", headers=headers).status_code == 204
            assert page.post(f"/live/{live['id']}/resume", headers=headers).status_code == 204
            assert page.post(f"/live/{live['id']}/stop", headers=headers).status_code == 204
        finally:
            page.close()
        wait_done(api, live["id"])
    stream = [
        r for r in rows_since(clinic, before, "read") if r.detail.get("view") == "live stream"
    ]
    assert [(r.actor, r.client_id) for r in stream] == [(clinic.emails["practitioner"], client_id)]
    writes = [r for r in rows_since(clinic, before, "write") if r.detail.get("control")]
    assert [r.detail["control"] for r in writes] == ["pause", "resume", "stop"]
    assert {r.actor for r in writes} == {clinic.emails["practitioner"]}
