"""The audit log over the API: owner only, filters and pages, the chain's verdict, and reading
the audit log leaves an audit row of its own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from microamp.store.access import AuditEntry, append_audit
from web.conftest import Clinic


@pytest.mark.parametrize("role", ["practitioner", "reception"])
def test_non_owners_are_refused(clinic: Clinic, role: str) -> None:
    with clinic.api(role) as api:
        assert api.get("/api/v1/audit").status_code == 403
        assert api.get("/api/v1/audit/verify").status_code == 403


def test_the_owner_filters_by_client_and_action_and_pages(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    with clinic.store.transaction() as db:
        for n in range(3):
            append_audit(db, actor_id=None, actor="filter-test", action="write",
                         resource=f"client:{client_id}/n{n}", client_id=client_id)  # fmt: skip
    query = {"client": client_id, "actor": "filter-test", "action": "write", "limit": 2}
    with clinic.api("owner") as api:
        first = api.get("/api/v1/audit", params=query).json()
        second = api.get("/api/v1/audit", params={**query, "offset": 2}).json()
        today = date.today()
        none = api.get("/api/v1/audit", params={**query, "until": str(today - timedelta(days=2))})
    assert first["total"] == 3 and len(first["rows"]) == 2 and len(second["rows"]) == 1
    assert [r["resource"] for r in first["rows"] + second["rows"]] == [
        f"client:{client_id}/n{n}" for n in (2, 1, 0)
    ]
    assert none.json()["total"] == 0


def test_a_backwards_date_range_is_422_naming_the_field(clinic: Clinic) -> None:
    with clinic.api("owner") as api:
        response = api.get("/api/v1/audit", params={"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 422
    assert "since" in response.text


def test_verify_says_intact_and_reading_is_audited(clinic: Clinic) -> None:
    with clinic.api("owner") as api:
        verdict = api.get("/api/v1/audit/verify").json()
    assert verdict["intact"] is True and verdict["rows"] >= 1 and verdict["broken_seq"] is None
    with clinic.store.session() as db:
        last = db.query(AuditEntry).order_by(AuditEntry.seq.desc()).first()
    assert last is not None
    assert (last.action, last.resource, last.actor) == (
        "read",
        "audit/verify",
        clinic.emails["owner"],
    )
