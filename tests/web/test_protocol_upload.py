"""Owners store protocols after validation (API and the protocols page); sessions then name
them like library protocols. Errors name each field; a clash with the library or a stored
version is a 409; other roles may not upload; every upload leaves an audit row."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from microamp.protocols import LIBRARY_DIR
from microamp.store.access import AuditEntry
from microamp.store.shared_models import StoredProtocol
from web.conftest import Clinic, csrf_of

LIBRARY_TEXT = (LIBRARY_DIR / "home-express.toml").read_text(encoding="utf-8")


def protocol_text(name: str, version: str = "1.0", muscle: str | None = None) -> str:
    text = LIBRARY_TEXT.replace('name = "home-express"', f'name = "{name}"')
    text = text.replace('version = "1.0"', f'version = "{version}"')
    if muscle is not None:
        text = re.sub(r'muscle = "[^"]+"', f'muscle = "{muscle}"', text, count=1)
    return text


def upload(api: httpx.Client, text: str) -> httpx.Response:
    return api.post("/api/v1/protocols", json={"toml_text": text})


def stored_names(clinic: Clinic) -> list[tuple[str, str]]:
    with clinic.store.session() as db:
        return [(r.name, r.version) for r in db.scalars(select(StoredProtocol))]


def test_an_owner_stores_a_protocol_and_a_session_runs_it_by_name(clinic: Clinic) -> None:
    with clinic.api("owner") as owner:
        stored = upload(owner, protocol_text("clinic-lift"))
        assert stored.status_code == 201, stored.text
        assert stored.json()["source"] == "store"
        assert stored.json()["uploaded_by"] == clinic.emails["owner"]
        listed = {p["name"]: p["source"] for p in owner.get("/api/v1/protocols").json()}
    assert listed["clinic-lift"] == "store" and listed["home-express"] == "library"
    with clinic.api("practitioner") as api:
        started = api.post(
            "/api/v1/sessions",
            json={"client_id": clinic.clients["cleared"], "protocol": "clinic-lift"},
        )
        assert started.status_code == 201, started.text
        live = started.json()
        api.post(f"/api/v1/sessions/{live['id']}/stop")
        record = api.get(f"/api/v1/records/{live['record_id']}").json()
    assert record["protocol"]["name"] == "clinic-lift"
    with clinic.store.session() as db:
        audits = db.scalars(select(AuditEntry).where(AuditEntry.resource == "protocol:clinic-lift"))
        assert [a.actor for a in audits] == [clinic.emails["owner"]]


def test_an_invalid_protocol_is_422_naming_each_field_and_stores_nothing(clinic: Clinic) -> None:
    before = stored_names(clinic)
    with clinic.api("owner") as owner:
        bad_muscle = upload(owner, protocol_text("bad-muscle", muscle="nosuchmuscle"))
        not_toml = upload(owner, "name = [unclosed")
    assert bad_muscle.status_code == 422, bad_muscle.text
    locs = [d["loc"] for d in bad_muscle.json()["detail"]]
    assert ["body", "toml_text", "steps", "0", "muscle"] in locs
    assert not_toml.status_code == 422
    assert not_toml.json()["detail"][0]["loc"][:2] == ["body", "toml_text"]
    assert stored_names(clinic) == before


def test_a_library_name_or_a_stored_version_is_a_409_and_a_new_version_is_stored(
    clinic: Clinic,
) -> None:
    with clinic.api("owner") as owner:
        library = upload(owner, protocol_text("home-express", version="9.0"))
        first = upload(owner, protocol_text("clinic-neck", "1.0"))
        again = upload(owner, protocol_text("clinic-neck", "1.0"))
        newer = upload(owner, protocol_text("clinic-neck", "1.1"))
        listed = [p for p in owner.get("/api/v1/protocols").json() if p["name"] == "clinic-neck"]
    assert library.status_code == 409 and "library" in library.json()["detail"]
    assert first.status_code == 201
    assert again.status_code == 409 and "1.0" in again.json()["detail"]
    assert newer.status_code == 201
    assert [p["version"] for p in listed] == ["1.1"]


def test_only_an_owner_may_upload(clinic: Clinic) -> None:
    for role in ("practitioner", "reception"):
        with clinic.api(role) as api:
            assert upload(api, protocol_text(f"by-{role}")).status_code == 403
    assert all(not name.startswith("by-") for name, _ in stored_names(clinic))


def test_the_protocols_page_takes_an_owners_file_and_shows_errors_by_field(
    sqlite_clinic: Clinic,
) -> None:
    page = sqlite_clinic.browser_client("owner")
    try:
        html = page.get("/protocols").text
        assert '<label for="protocol-file">' in html and 'id="protocol-file"' in html
        token = csrf_of(html)
        bad = page.post(
            "/protocols/upload",
            data={"csrf_token": token},
            files={"file": ("bad.toml", protocol_text("page-bad", muscle="nosuchmuscle"))},
        )
        good = page.post(
            "/protocols/upload",
            data={"csrf_token": token},
            files={"file": ("good.toml", protocol_text("page-lift"))},
        )
        shown = page.get("/protocols/page-lift")
        listing = page.get("/protocols").text
        console = page.get("/console").text
    finally:
        page.close()
    assert bad.status_code == 422
    assert 'id="error-summary"' in bad.text
    assert '<li><a href="#protocol-file">steps[0].muscle: ' in bad.text
    assert 'aria-describedby="protocol-file-hint file-error"' in bad.text
    assert good.status_code == 303 and good.headers["location"] == "/protocols/page-lift"
    assert shown.status_code == 200 and "page-lift" in shown.text
    assert 'href="/protocols/page-lift"' in listing
    assert '<option value="page-lift"' in console


def test_a_practitioner_sees_no_upload_form_and_is_refused_the_route(
    sqlite_clinic: Clinic,
) -> None:
    page = sqlite_clinic.browser_client("practitioner")
    try:
        html = page.get("/protocols").text
        refused = page.post(
            "/protocols/upload",
            data={"csrf_token": csrf_of(html)},
            files={"file": ("p.toml", protocol_text("by-practitioner-page"))},
        )
    finally:
        page.close()
    assert 'id="protocol-file"' not in html
    assert refused.status_code == 403
