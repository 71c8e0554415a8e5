"""Exports over HTTP: a client's full export as ZIP (API and her page) for clinical roles, the
clinic's tables as CSV (API and the clinic settings) for the owner, each audited; other roles
refused with 403, bad input 422 naming the field; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from contextlib import closing
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from microamp.store.access import AuditEntry
from microamp.store.models import ProgressEntry
from microamp.store.photo_blobs import entry_photo
from web.conftest import Clinic, add_front_photos, add_history


@pytest.fixture(scope="module")
def record_id(clinic: Clinic) -> int:
    add_front_photos(clinic)
    return add_history(clinic)


def _last_audit(clinic: Clinic) -> AuditEntry:
    with clinic.store.transaction() as db:
        row = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        db.expunge(row)
        return row


def _zip(clinic: Clinic, role: str, client_id: int) -> zipfile.ZipFile:
    with clinic.api(role) as api:
        answer = api.get(f"/api/v1/clients/{client_id}/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(answer.content))


def test_the_archive_carries_the_records_own_dose_photos_and_chart(
    clinic: Clinic, record_id: int
) -> None:
    cleared = clinic.clients["cleared"]
    archive = _zip(clinic, "practitioner", cleared)
    row = _last_audit(clinic)
    assert (row.action, row.resource, row.client_id) == ("read", f"client:{cleared}", cleared)
    assert row.actor == clinic.emails["practitioner"]
    assert row.detail["view"] == "full export (api)"
    with clinic.api("practitioner") as api:
        dose: dict[str, Any] = api.get(f"/api/v1/records/{record_id}").json()["dose_by_zone"]
    assert dose, "the simulated session delivered to at least one zone"
    record = json.loads(archive.read("record.json"))
    (session,) = [s for s in record["sessions"] if s["id"] == record_id]
    assert session["dose_by_zone"] == dose
    assert len(record["plans"]) == 1 and record["plans"][0]["protocol_name"] == "pro-express"
    Bundle.model_validate(json.loads(archive.read("fhir-bundle.json")))
    # the simulator recorded telemetry, so the session has its chart
    assert archive.read(f"charts/session-{record_id}.svg").startswith(b"<svg")
    with clinic.store.transaction() as db:
        entries = db.scalars(
            select(ProgressEntry).where(ProgressEntry.client_id == cleared)
            .order_by(ProgressEntry.taken_on, ProgressEntry.id)
        ).all()  # fmt: skip
        kept = [entry_photo(db, e) for e in entries]
    photos = sorted(n for n in archive.namelist() if n.startswith("photos/"))
    assert len(photos) == len(entries) == 2
    for entry, stored in zip(entries, kept, strict=True):
        assert stored is not None
        (name,) = [n for n in photos if n.startswith(f"photos/photo-{entry.id}-")]
        assert archive.read(name) == stored.data
    assert archive.read("consents/consent-1.pdf").startswith(b"%PDF")


def test_the_owner_downloads_it_from_her_page(clinic: Clinic, record_id: int) -> None:
    cleared = clinic.clients["cleared"]
    with closing(clinic.browser_client("owner")) as browser:
        page = browser.get(f"/clients/{cleared}")
        assert f'href="/clients/{cleared}/export.zip"' in page.text
        answer = browser.get(f"/clients/{cleared}/export.zip")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="client-{cleared}-export.zip"'
    )
    assert "index.html" in zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert _last_audit(clinic).detail["view"] == "full export (page)"


def test_reception_may_not_export_a_record(clinic: Clinic) -> None:
    cleared = clinic.clients["cleared"]
    with clinic.api("reception") as api:
        assert api.get(f"/api/v1/clients/{cleared}/export").status_code == 403
    with closing(clinic.browser_client("reception")) as browser:
        assert browser.get(f"/clients/{cleared}/export.zip").status_code == 403
        assert f"/clients/{cleared}/export.zip" not in browser.get(f"/clients/{cleared}").text


def test_an_unknown_client_is_404(clinic: Clinic) -> None:
    with clinic.api("owner") as api:
        assert api.get("/api/v1/clients/999999/export").status_code == 404
        assert api.get("/api/v1/clients/0/export").status_code == 422


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_owner_gets_dose_rows_equal_to_the_record(clinic: Clinic, record_id: int) -> None:
    with clinic.api("owner") as api:
        answer = api.get("/api/v1/exports/dose.csv")
        row = _last_audit(clinic)
        dose = api.get(f"/api/v1/records/{record_id}").json()["dose_by_zone"]
    assert (row.resource, row.detail["view"]) == ("export:dose", "csv export (api)")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    mine = {r["zone"]: r for r in _csv(answer.text) if r["session_id"] == str(record_id)}
    assert set(mine) == set(dose)
    for zone, figures in dose.items():
        assert float(mine[zone]["charge_uc"]) == figures["charge_uc"]
        assert float(mine[zone]["mean_current_ua"]) == figures["mean_current_ua"]
        assert float(mine[zone]["stimulation_s"]) == figures["stimulation_s"]


def test_the_clinic_settings_download_a_table(clinic: Clinic, record_id: int) -> None:
    with closing(clinic.browser_client("owner")) as browser:
        assert 'action="/settings/exports.csv"' in browser.get("/settings/clinic").text
        answer = browser.get("/settings/exports.csv", params={"table": "clients", "from": "",
                                                               "to": ""})  # fmt: skip
    assert answer.status_code == 200
    names = {r["full_name"] for r in _csv(answer.text)}
    assert {"Ana Lima", "Ben Carter"} <= names


def test_only_the_owner_may_export_a_table(clinic: Clinic) -> None:
    for role in ("practitioner", "reception"):
        with clinic.api(role) as api:
            assert api.get("/api/v1/exports/clients.csv").status_code == 403
        with closing(clinic.browser_client(role)) as browser:
            assert browser.get("/settings/exports.csv?table=clients").status_code == 403


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/exports/users.csv", "table"),
        ("/api/v1/exports/dose.csv?from=2026-13-01", "from"),
        ("/api/v1/exports/dose.csv?from=2026-03-02&to=2026-03-01", "to"),
    ],
)
def test_bad_input_is_422_naming_the_field(clinic: Clinic, path: str, field: str) -> None:
    with clinic.api("owner") as api:
        answer = api.get(path)
    assert answer.status_code == 422, answer.text
    assert [e["loc"][-1] for e in answer.json()["detail"]] == [field]


def test_a_bad_day_on_the_settings_download_names_it(clinic: Clinic) -> None:
    with closing(clinic.browser_client("owner")) as browser:
        answer = browser.get("/settings/exports.csv", params={"table": "dose", "to": "soon"})
    assert answer.status_code == 422
    assert "to" in answer.text and "YYYY-MM-DD" in answer.text
