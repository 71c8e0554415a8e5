"""The FHIR API: ``$everything`` and each resource read, as FHIR JSON, for clinical roles only,
every read audited; a session run on the simulator comes out with its record's own dose."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.procedure import Procedure
from sqlalchemy import select

from microamp.store.access import AuditEntry
from web.conftest import Clinic, add_history

FIGURES = {"charge": "charge_uc", "current": "mean_current_ua", "time": "stimulation_s",
           "impedance": "mean_impedance_ohm"}  # fmt: skip


@pytest.fixture(scope="module")
def record_id(clinic: Clinic) -> int:
    return add_history(clinic)


def _last_audit(clinic: Clinic) -> AuditEntry:
    with clinic.store.transaction() as db:
        row = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        db.expunge(row)
        return row


def _everything(clinic: Clinic, role: str, client_id: int, **params: str) -> Any:
    with clinic.api(role) as api:
        return api.get(f"/api/v1/fhir/Patient/{client_id}/$everything", params=params)


def test_everything_is_fhir_json_with_the_records_own_dose(clinic: Clinic, record_id: int) -> None:
    cleared = clinic.clients["cleared"]
    answer = _everything(clinic, "practitioner", cleared)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/fhir+json"
    bundle = Bundle.model_validate(answer.json())
    resources = {f"{e.resource.get_resource_type()}/{e.resource.id}": e.resource
                 for e in bundle.entry or []}  # fmt: skip
    assert f"Patient/{cleared}" in resources
    procedure = resources[f"Procedure/{record_id}"]
    assert isinstance(procedure, Procedure)
    with clinic.api("practitioner") as api:
        record = api.get(f"/api/v1/records/{record_id}").json()
    dose: dict[str, dict[str, Any]] = record["dose_by_zone"]
    assert dose, "the simulated session delivered to at least one zone"
    assert {site.text for site in procedure.bodySite or []} == set(dose)
    for zone, figures in dose.items():
        for part, key in FIGURES.items():
            observation = resources[f"Observation/{record_id}-{zone}-{part}"]
            quantity = observation.valueQuantity  # type: ignore[attr-defined]
            if figures[key] is None:
                assert quantity is None
            else:
                assert float(quantity.value) == figures[key]


def test_everything_is_audited_as_a_read_of_health_data(clinic: Clinic, record_id: int) -> None:
    cleared = clinic.clients["cleared"]
    assert _everything(clinic, "owner", cleared).status_code == 200
    row = _last_audit(clinic)
    assert (row.action, row.resource, row.client_id) == ("read", f"client:{cleared}", cleared)
    assert row.actor == clinic.emails["owner"]
    assert row.detail["view"] == "fhir $everything"


def test_audit_rows_come_with_include_audit(clinic: Clinic, record_id: int) -> None:
    cleared = clinic.clients["cleared"]
    plain = _everything(clinic, "owner", cleared).json()
    assert not [e for e in plain["entry"] if e["resource"]["resourceType"] == "AuditEvent"]
    with_audit = _everything(clinic, "owner", cleared, _include="audit").json()
    events = [e["resource"] for e in with_audit["entry"]
              if e["resource"]["resourceType"] == "AuditEvent"]  # fmt: skip
    # the reads just before this one are among them
    assert any(e["agent"][0]["who"]["display"] == clinic.emails["owner"] for e in events)
    refused = _everything(clinic, "owner", cleared, _include="everything")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "_include"


def test_each_resource_reads_alone_and_is_audited(clinic: Clinic, record_id: int) -> None:
    with clinic.api("practitioner") as api:
        answer = api.get(f"/api/v1/fhir/Procedure/{record_id}")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/fhir+json"
        procedure = Procedure.model_validate(answer.json())
        assert procedure.subject.reference == f"Patient/{clinic.clients['cleared']}"  # type: ignore[union-attr]
        row = _last_audit(clinic)
        assert (row.resource, row.client_id) == (f"fhir:Procedure/{record_id}",
                                                 clinic.clients["cleared"])  # fmt: skip
        device = procedure.focalDevice[0].manipulated.reference  # type: ignore[index, union-attr]
        assert api.get(f"/api/v1/fhir/{device}").json()["resourceType"] == "Device"
        patient = api.get(f"/api/v1/fhir/Patient/{clinic.clients['blocked']}").json()
        assert patient["name"] == [{"text": "Ben Carter"}]
        questionnaire = api.get("/api/v1/fhir/Questionnaire/microamp-intake")
        assert questionnaire.json()["status"] == "active"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/fhir/Patient/999999/$everything", "/api/v1/fhir/Procedure/999999",
     "/api/v1/fhir/Observation/1-cheeks-nothing", "/api/v1/fhir/Patient/999999"],
)  # fmt: skip
def test_an_unknown_id_is_404(clinic: Clinic, path: str) -> None:
    with clinic.api("practitioner") as api:
        assert api.get(path).status_code == 404


def test_a_type_the_export_has_not_is_422(clinic: Clinic) -> None:
    with clinic.api("practitioner") as api:
        answer = api.get("/api/v1/fhir/Encounter/1")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "resource_type"


def test_reception_may_not_read_the_record_as_fhir(clinic: Clinic, record_id: int) -> None:
    cleared = clinic.clients["cleared"]
    before = _last_audit(clinic).seq
    with clinic.api("reception") as api:
        assert api.get(f"/api/v1/fhir/Patient/{cleared}/$everything").status_code == 403
        assert api.get(f"/api/v1/fhir/Procedure/{record_id}").status_code == 403
        assert api.get(f"/api/v1/fhir/Patient/{cleared}").status_code == 403
    reads = []
    with clinic.store.transaction() as db:
        reads = list(db.scalars(select(AuditEntry).where(AuditEntry.seq > before,
                                                         AuditEntry.action == "read")))  # fmt: skip
    assert reads == []  # nothing was read
