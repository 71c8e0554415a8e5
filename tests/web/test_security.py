"""Cookies, CSRF, the sign-in throttle, passwords, and the audit chain's verification."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from microamp.store.access import append_audit, verify_audit_chain
from microamp.web.roles import PUBLIC, allowed_roles
from microamp.web.security import SessionSigner, hash_password, verify_password
from web.conftest import PASSWORD, Clinic, clinic_on, csrf_of, sign_in


def test_passwords_are_argon2id() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong")
    assert not verify_password(None, "anything")


def test_session_cookie_is_httponly_lax_and_signed(sqlite_clinic: Clinic) -> None:
    client = sqlite_clinic.browser_client()
    try:
        response = sign_in(client, sqlite_clinic.emails["owner"], PASSWORD)
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        value = client.cookies["microamp_session"]
        client.cookies.set("microamp_session", value[:-2] + "xx")
        assert client.get("/").status_code == 303
    finally:
        client.close()


def test_signer_refuses_expired_and_forged_payloads() -> None:
    signer = SessionSigner("s" * 40, max_age_s=600)
    cookie = signer.dumps({"uid": 1}, now=1000)
    assert signer.loads(cookie, now=1500) == {"uid": 1, "iat": 1000}
    assert signer.loads(cookie, now=1700) is None
    assert SessionSigner("t" * 40, max_age_s=600).loads(cookie, now=1500) is None


def test_a_form_without_its_csrf_token_is_refused(sqlite_clinic: Clinic) -> None:
    client = sqlite_clinic.browser_client("practitioner")
    try:
        body = {"full_name": "No Token", "date_of_birth": "1990-01-01"}
        assert client.post("/clients", data=body).status_code == 403
        body["csrf_token"] = csrf_of(client.get("/clients").text)
        assert client.post("/clients", data=body).status_code == 303
    finally:
        client.close()


def test_repeated_wrong_passwords_are_throttled(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'c.db'}"
    with clinic_on(db_url, tmp_path, signin_delay_base_s=60) as clinic:
        client = clinic.browser_client()
        try:
            statuses = [
                sign_in(client, clinic.emails["owner"], "wrong").status_code for _ in range(6)
            ]
            assert statuses[:5] == [401] * 5 and statuses[5] == 429
            refused = sign_in(client, clinic.emails["owner"], PASSWORD)
            assert refused.status_code == 429
            assert 55 <= int(refused.headers["retry-after"]) <= 60
            assert "Too many attempts. Try again in" in refused.text
        finally:
            client.close()


def _cli(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI, with the server's data directory (where the audit key lives) when given."""
    env = dict(os.environ)
    if data_dir is not None:
        env["MICROAMP_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "microamp", *args], capture_output=True, text=True, timeout=120,
        env=env,
    )  # fmt: skip


@pytest.mark.slow
def test_audit_verify_names_the_first_changed_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    with clinic_on(url, tmp_path) as clinic, clinic.store.transaction() as db:
        for n in range(4):
            append_audit(db, actor_id=None, actor="t", action="read", resource=f"client:{n}")
    assert _cli("audit", "verify", "--database", url, data_dir=tmp_path).returncode == 0
    with clinic_on(url, tmp_path, seeded=False) as clinic, clinic.store.transaction() as db:
        with pytest.raises(Exception, match="append-only"):
            db.execute(text("UPDATE audit_log SET actor = 'x' WHERE seq = 2"))
    with clinic_on(url, tmp_path, seeded=False) as clinic, clinic.store.transaction() as db:
        # someone with the database file in hand drops the guard and edits a row
        db.execute(text("DROP TRIGGER audit_log_no_update"))
        db.execute(text("UPDATE audit_log SET resource = 'client:99' WHERE seq = 3"))
    result = _cli("audit", "verify", "--database", url, data_dir=tmp_path)
    assert result.returncode == 1
    assert "row 3" in result.stderr
    with clinic_on(url, tmp_path, seeded=False) as clinic, clinic.store.session() as db:
        assert verify_audit_chain(db).broken_seq == 3


def test_users_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "microamp", "users", "add", "new@clinic.example", "--role",
         "reception", "--password-stdin", "--database", url],
        input="a good long password\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    bad = _cli("users", "add", "x@clinic.example", "--role", "boss", "--database", url)
    assert bad.returncode == 2


def test_the_openapi_document_declares_bearer_tokens_on_every_api_operation(
    sqlite_clinic: Clinic,
) -> None:
    # every operation but the public ones of the roles table (online booking's reads), which
    # say so with an empty security list
    with sqlite_clinic.api() as client:
        document = client.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert {s["scheme"].lower() for s in schemes.values() if s["type"] == "http"} == {"bearer"}
    public = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if allowed_roles(method.upper(), path) == PUBLIC:
                public += 1
                assert operation.get("security") == [], f"{method.upper()} {path} asks a token"
                continue
            assert operation.get("security"), f"{method.upper()} {path} declares no security"
    assert public == 2


@pytest.mark.parametrize("header", ["Basic b3duZXI6cHc=", "Bearer", "Bearer nope", "token"])
def test_anything_but_a_valid_bearer_token_is_401(sqlite_clinic: Clinic, header: str) -> None:
    with sqlite_clinic.api() as client:
        response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
