"""Whose data a user reaches: a token speaks for its own user only, one user cannot revoke
another's token, and the audit chain names a row changed behind the database's guard, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select, text

from microamp.store.access import ApiToken, append_audit, verify_audit_chain
from microamp.store.models import User
from web.conftest import ROLES, Clinic, csrf_of


def test_each_token_speaks_for_its_own_user(clinic: Clinic) -> None:
    for role in ROLES:
        with clinic.api(role) as api:
            me = api.get("/api/v1/me").json()
        assert (me["email"], me["role"]) == (clinic.emails[role], role)


def test_a_user_cannot_revoke_another_users_token(clinic: Clinic) -> None:
    with clinic.store.session() as db:
        owner_id = db.scalars(select(User.id).where(User.email == clinic.emails["owner"])).one()
        token_id = db.scalars(select(ApiToken.id).where(ApiToken.user_id == owner_id)).first()
    browser = clinic.browser_client("practitioner")
    try:
        csrf = csrf_of(browser.get("/account").text)
        response = browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
        assert response.status_code == 404
    finally:
        browser.close()
    with clinic.store.session() as db:
        assert db.get(ApiToken, token_id).revoked_at is None  # type: ignore[union-attr]
    with clinic.api("owner") as api:
        assert api.get("/api/v1/me").status_code == 200


def _drop_guard(clinic: Clinic) -> list[str]:
    if clinic.store.dialect == "postgresql":
        return ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"]
    return ["DROP TRIGGER audit_log_no_update"]


def test_the_audit_chain_names_a_row_changed_behind_the_guard(clinic: Clinic) -> None:
    with clinic.store.transaction() as db:
        rows = [
            append_audit(db, actor_id=None, actor="t", action="read", resource=f"client:{n}").seq
            for n in range(3)
        ]
    with clinic.store.session() as db:
        assert verify_audit_chain(db).intact
    tampered = rows[1]
    with clinic.store.transaction() as db:
        # someone with the database in hand switches the guard off and edits a row
        for statement in _drop_guard(clinic):
            db.execute(text(statement))
        db.execute(
            text("UPDATE audit_log SET resource = 'client:999' WHERE seq = :seq"), {"seq": tampered}
        )
    with clinic.store.session() as db:
        verdict = verify_audit_chain(db)
    assert verdict.broken_seq == tampered
    assert "changed" in verdict.reason
