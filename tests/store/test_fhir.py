"""A client's record as FHIR R4B: exported, parsed back with `fhir.resources`, every resource
valid, and every delivered figure the record's own, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.procedure import Procedure
from PIL import Image
from sqlalchemy import select

from microamp.clinic.intake import nothing_to_report
from microamp.clinic.plans import WEEKDAYS
from microamp.errors import InvalidValue, NotFound
from microamp.store import SessionRecorder, Store
from microamp.store.access import append_audit
from microamp.store.book import book_appointment
from microamp.store.book_setup import add_room, add_service, save_settings
from microamp.store.crud import create_client, create_user, record_consent, record_intake
from microamp.store.fhir import ZONE_SNOMED, client_bundle, device_id, read_resource
from microamp.store.models import ProgressEntry
from microamp.store.photos import add_progress_entry
from microamp.store.previsit import create_link, review_submission, submit_previsit

BORN = date(1984, 2, 29)
DOSES: list[dict[str, dict[str, Any]]] = [
    {
        "cheeks": {"zone": "cheeks", "charge_uc": 812.25, "stimulation_s": 300.0,
                   "mean_current_ua": 2.7075, "mean_impedance_ohm": 11_250.5},
        "jawline": {"zone": "jawline", "charge_uc": 401.0, "stimulation_s": 180.0,
                    "mean_current_ua": 2.2277777777777779, "mean_impedance_ohm": 9_870.0},
        "forehead": {"zone": "forehead", "charge_uc": 120.5, "stimulation_s": 60.0,
                     "mean_current_ua": 2.0083333333333333, "mean_impedance_ohm": None},
    },
    {
        "neck": {"zone": "neck", "charge_uc": 95.125, "stimulation_s": 45.5,
                 "mean_current_ua": 2.090659340659341, "mean_impedance_ohm": 14_002.25},
        "brows": {"zone": "brows", "charge_uc": 33.0, "stimulation_s": 20.0,
                  "mean_current_ua": 1.65, "mean_impedance_ohm": 12_000.0},
    },
]  # fmt: skip
MEASURES = {"brow_height_left_mm": 21.37, "jawline_angle_left_deg": 128.4,
            "brow_symmetry_pct": 3.25}  # fmt: skip


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 140, 120)).save(out, "JPEG")
    return out.getvalue()


def seed_client(store: Store) -> dict[str, Any]:
    """A client with two intake versions, a consent signed in the clinic and one on a form
    before the visit (a PDF), a booked visit, two sessions over five zones, and a measured
    photo; returns the ids."""
    today = date.today()
    with store.transaction() as db:
        user = create_user(
            db, email="pr@fhir.example", display_name="Pat Reyes", role="practitioner"
        )
        client = create_client(db, full_name="Inês Duarte", date_of_birth=BORN,
                               email="ines@fhir.example", phone="+351 912 345 678")  # fmt: skip
        record_intake(db, client_id=client.id, answers=nothing_to_report(BORN), on=today,
                      today=today, recorded_by_id=user.id)  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Inês Duarte")
        link = create_link(db, client_id=client.id, created_by_id=user.id)
        submission = submit_previsit(
            db, link, answers=nothing_to_report(BORN, metal_in_face_zones=["chin", "jawline"],
                                                last_injectables_date="2024-05-01"),
            typed_name="Inês Duarte", drawn_signature=None, typed_instead=True,
            consent_version="2026.11", photo_consent=True, today=today,
        )  # fmt: skip
        review_submission(db, client_id=client.id, submission_id=submission.id,
                          reviewer_id=user.id, today=today)  # fmt: skip
        save_settings(db, name="Clinica", time_zone="UTC",
                      opening_hours={d: [["07:00", "21:00"]] for d in WEEKDAYS})  # fmt: skip
        room = add_room(db, name="Room A")
        service = add_service(db, name="Lift facial", duration_min=45)
        start = datetime.combine(today + timedelta(days=2), datetime.min.time()).replace(hour=9)
        visit = book_appointment(db, client_id=client.id, service_id=service.id, room_id=room.id,
                                 practitioner_id=user.id, start=start)  # fmt: skip
        ids = {"client": client.id, "user": user.id, "visit": visit.id}
    records = []
    for dose in DOSES:
        recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids["client"],
                                         practitioner_id=ids["user"], device_url="sim://?load=gel")  # fmt: skip
        recorder.finish("completed", dose_by_zone=dose)
        records.append(recorder.session_id)
    with store.transaction() as db:
        entry = add_progress_entry(db, client_id=ids["client"], taken_on=today, today=today,
                                   photo=_jpeg(), treatment_session_id=records[0])  # fmt: skip
        entry.view = "front"
        entry.measurement = {"view": "front", "measures": MEASURES, "flags": ["yaw 14 deg"]}
        append_audit(db, actor_id=ids["user"], actor="pr@fhir.example", action="read",
                     resource=f"client:{ids['client']}", client_id=ids["client"])  # fmt: skip
        ids["photo"] = entry.id
    return ids | {"records": records}


def _export(store: Store, client_id: int, **options: Any) -> dict[str, Any]:
    with store.transaction() as db:
        document = client_bundle(db, client_id=client_id, **options)
    # through JSON, as it travels
    parsed: dict[str, Any] = json.loads(json.dumps(document))
    return parsed


def _by_type(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in document["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def test_every_resource_of_the_export_parses_and_is_valid_r4b(store: Store) -> None:
    ids = seed_client(store)
    document = _export(store, ids["client"])
    bundle = Bundle.model_validate(document)
    assert bundle.type == "searchset"
    assert bundle.total == len(document["entry"])
    kinds = _by_type(document)
    assert set(kinds) == {"Patient", "Questionnaire", "QuestionnaireResponse", "Consent",
                          "Practitioner", "Location", "Appointment", "Device", "Procedure",
                          "Observation", "Media"}  # fmt: skip
    assert "AuditEvent" not in kinds  # only on request
    # each resource on its own, by its own model
    from fhir.resources.R4B import get_fhir_model_class

    for entry in document["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.id == resource["id"]
        assert entry["fullUrl"] == f"{resource['resourceType']}/{resource['id']}"
    patient = kinds["Patient"][0]
    assert patient["name"] == [{"text": "Inês Duarte"}]
    assert patient["birthDate"] == "1984-02-29"


def test_every_delivered_figure_equals_the_record(store: Store) -> None:
    ids = seed_client(store)
    bundle = Bundle.model_validate(_export(store, ids["client"]))
    observations: dict[str, Observation] = {}
    procedures: dict[str, Procedure] = {}
    for entry in bundle.entry or []:
        resource = entry.resource
        if isinstance(resource, Observation):
            observations[str(resource.id)] = resource
        elif isinstance(resource, Procedure):
            procedures[str(resource.id)] = resource
    assert sorted(procedures) == sorted(str(r) for r in ids["records"])
    units = {"charge": ("charge_uc", "uC"), "current": ("mean_current_ua", "uA"),
             "time": ("stimulation_s", "s"), "impedance": ("mean_impedance_ohm", "Ohm")}  # fmt: skip
    compared = 0
    for record_id, dose in zip(ids["records"], DOSES, strict=True):
        procedure = procedures[str(record_id)]
        assert procedure.status == "completed"
        device = procedure.focalDevice[0].manipulated.reference  # type: ignore[index, union-attr]
        assert device == f"Device/{device_id('sim://?load=gel')}"
        sites = {site.text: site for site in procedure.bodySite or []}
        assert set(sites) == set(dose)
        for zone, figures in dose.items():
            if zone in ZONE_SNOMED:
                coding = sites[zone].coding[0]  # type: ignore[index]
                assert (coding.system, coding.code) == (
                    "http://snomed.info/sct",
                    ZONE_SNOMED[zone][0],
                )
            else:
                assert not sites[zone].coding  # text only where no code is sure
            for part, (key, ucum) in units.items():
                observation = observations[f"{record_id}-{zone}-{part}"]
                assert observation.partOf[0].reference == f"Procedure/{record_id}"  # type: ignore[index]
                assert observation.bodySite.text == zone  # type: ignore[union-attr]
                if figures[key] is None:
                    assert observation.valueQuantity is None
                    assert observation.dataAbsentReason is not None
                    continue
                quantity = observation.valueQuantity
                assert quantity is not None
                assert float(quantity.value) == figures[key]  # type: ignore[arg-type]
                assert (quantity.system, quantity.code) == ("http://unitsofmeasure.org", ucum)
                compared += 1
    assert compared == sum(len(d) for d in DOSES) * 4 - 1


def test_intake_versions_consents_visits_and_photos_are_all_there(store: Store) -> None:
    ids = seed_client(store)
    kinds = _by_type(_export(store, ids["client"]))
    responses = kinds["QuestionnaireResponse"]
    assert [r["identifier"]["value"] for r in responses] == ["1", "2"]
    assert all(r["questionnaire"] == kinds["Questionnaire"][0]["url"] for r in responses)
    second = {item["linkId"]: item.get("answer") for item in responses[1]["item"]}
    assert [a["valueCoding"]["code"] for a in second["metal_in_face_zones"]] == ["jawline", "chin"]
    assert second["last_injectables_date"] == [{"valueDate": "2024-05-01"}]
    assert second["pregnant"] == [{"valueBoolean": False}]
    assert second["last_facial_procedure_date"] is None  # never: no answer
    assert responses[0]["author"] == {"display": "Pat Reyes"}
    consents = [FhirConsent.model_validate(c) for c in kinds["Consent"]]
    typed, on_form = (c.sourceAttachment for c in consents)
    assert typed is not None and on_form is not None
    assert typed.contentType.startswith("text/plain")  # type: ignore[union-attr]
    # the library decodes base64Binary: its bytes are the document
    assert "Inês Duarte" in bytes(typed.data).decode("utf-8")  # type: ignore[arg-type]
    assert on_form.contentType == "application/pdf"
    assert bytes(on_form.data).startswith(b"%PDF")  # type: ignore[arg-type]
    assert on_form.size == len(bytes(on_form.data))  # type: ignore[arg-type]
    (visit,) = kinds["Appointment"]
    assert visit["id"] == str(ids["visit"]) and visit["status"] == "booked"
    assert {p["actor"].get("display") for p in visit["participant"]} >= {"Pat Reyes", "Room A"}
    (media,) = kinds["Media"]
    assert media["id"] == str(ids["photo"])
    with store.transaction() as db:
        stored = db.get(ProgressEntry, ids["photo"])
        assert stored is not None and stored.photo_sha256 is not None
    assert base64.b64decode(media["content"]["data"])[:2] == b"\xff\xd8"
    measured = {o["id"]: o for o in kinds["Observation"] if o["id"].startswith("photo-")}
    assert len(measured) == len(MEASURES)
    for name, value in MEASURES.items():
        observation = measured[f"photo-{ids['photo']}-{name.replace('_', '-')}"]
        assert observation["valueQuantity"]["value"] == value
        assert observation["derivedFrom"] == [{"reference": f"Media/{ids['photo']}"}]
    units = {o["valueQuantity"]["code"] for o in measured.values()}
    assert units == {"mm", "deg", "%"}


def test_audit_rows_come_as_audit_events_only_when_asked(store: Store) -> None:
    ids = seed_client(store)
    events = _by_type(_export(store, ids["client"], include_audit=True))["AuditEvent"]
    assert len(events) == 1
    (event,) = events
    assert event["action"] == "R"
    assert event["agent"][0]["who"] == {"display": "pr@fhir.example"}
    assert event["entity"][0]["what"] == {"reference": f"Patient/{ids['client']}"}


def test_each_resource_reads_on_its_own_as_in_the_bundle(store: Store) -> None:
    ids = seed_client(store)
    document = _export(store, ids["client"], include_audit=True)
    with store.transaction() as db:
        for entry in document["entry"]:
            resource = entry["resource"]
            owner, alone = read_resource(db, resource_type=resource["resourceType"],
                                         resource_id=resource["id"])  # fmt: skip
            assert json.loads(json.dumps(alone)) == resource
            if resource["resourceType"] not in (
                "Questionnaire",
                "Device",
                "Practitioner",
                "Location",
            ):
                assert owner == ids["client"]


@pytest.mark.parametrize(
    ("resource_type", "resource_id"),
    [("Procedure", "999999"), ("Patient", "0"), ("Observation", "1-cheeks-nothing"),
     ("Observation", "photo-999-brow"), ("Questionnaire", "other"), ("Device", "d-00"),
     ("Media", "2147483648"), ("AuditEvent", "x"), ("Practitioner", "999999"),
     ("Location", "999999")],
)  # fmt: skip
def test_an_unknown_resource_is_not_found(
    store: Store, resource_type: str, resource_id: str
) -> None:
    seed_client(store)
    with store.transaction() as db, pytest.raises(NotFound):
        read_resource(db, resource_type=resource_type, resource_id=resource_id)


def test_a_type_the_export_has_not_is_refused_by_name(store: Store) -> None:
    with store.transaction() as db, pytest.raises(InvalidValue) as refused:
        read_resource(db, resource_type="Encounter", resource_id="1")
    assert refused.value.field == "resource_type"


def test_an_unknown_client_is_not_found(store: Store) -> None:
    with store.transaction() as db, pytest.raises(NotFound):
        client_bundle(db, client_id=424242)


def test_a_running_session_gives_preliminary_figures(store: Store) -> None:
    ids = seed_client(store)
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids["client"])
    with store.transaction() as db:
        from microamp.store.session_models import TreatmentSession

        row = db.scalar(select(TreatmentSession).where(TreatmentSession.id == recorder.session_id))
        assert row is not None
        row.dose_by_zone = {"chin": {"charge_uc": 1.5, "stimulation_s": 1.0,
                                     "mean_current_ua": 1.5, "mean_impedance_ohm": 10.0}}  # fmt: skip
    kinds = _by_type(_export(store, ids["client"], now=datetime.now(UTC)))
    procedure = next(p for p in kinds["Procedure"] if p["id"] == str(recorder.session_id))
    assert procedure["status"] == "in-progress" and "end" not in procedure["performedPeriod"]
    charge = next(
        o for o in kinds["Observation"] if o["id"] == f"{recorder.session_id}-chin-charge"
    )
    assert charge["status"] == "preliminary"
    recorder.finish("stopped")


def test_a_zone_of_another_spelling_still_gives_valid_ids_that_read_back(store: Store) -> None:
    ids = seed_client(store)
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids["client"])
    odd = {"zone": "custom:Upper Lip", "charge_uc": 7.25, "stimulation_s": 5.0,
           "mean_current_ua": 1.45, "mean_impedance_ohm": 9_000.0}  # fmt: skip
    recorder.finish("completed", dose_by_zone={"custom:Upper Lip": odd})
    kinds = _by_type(_export(store, ids["client"]))
    mine = [o for o in kinds["Observation"] if o["id"].startswith(f"{recorder.session_id}-")]
    assert len(mine) == 4
    charge = next(o for o in mine if o["id"].endswith("-charge"))
    assert charge["bodySite"] == {"text": "custom:Upper Lip"}
    assert charge["valueQuantity"]["value"] == 7.25
    with store.transaction() as db:
        _owner, alone = read_resource(db, resource_type="Observation", resource_id=charge["id"])
    assert alone == charge


def test_a_device_reads_the_same_in_every_clients_bundle_and_alone(store: Store) -> None:
    ids = seed_client(store)
    with store.transaction() as db:
        other = create_client(db, full_name="Rui Sá", date_of_birth=date(1970, 1, 1)).id
    url = "serial:///dev/ttyUSB0"
    for client_id, firmware in ((other, "1.2"), (ids["client"], "1.3")):
        recorder = SessionRecorder.start(store, protocol_name="lift", client_id=client_id,
                                         device_url=url, device_capabilities={"firmware": firmware})  # fmt: skip
        recorder.finish("completed", dose_by_zone=DOSES[1])
    devices = []
    for client_id in (ids["client"], other):
        kinds = _by_type(_export(store, client_id))
        devices.append(next(d for d in kinds["Device"] if d["id"] == device_id(url)))
    with store.transaction() as db:
        _owner, alone = read_resource(db, resource_type="Device", resource_id=device_id(url))
    assert devices[0] == devices[1] == json.loads(json.dumps(alone))
    assert "1.2" in devices[0]["note"][0]["text"]
    assert url not in device_id(url)


def _references(node: Any) -> Iterator[str]:
    """Every ``reference`` anywhere in a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_staff_and_rooms_are_resources_and_every_reference_resolves_in_the_bundle(
    store: Store,
) -> None:
    ids = seed_client(store)
    document = _export(store, ids["client"])
    kinds = _by_type(document)
    assert kinds["Practitioner"] == [
        {"resourceType": "Practitioner", "id": str(ids["user"]), "active": True,
         "name": [{"text": "Pat Reyes"}]}
    ]  # fmt: skip
    (room,) = kinds["Location"]
    assert (room["name"], room["status"], room["physicalType"]["coding"][0]["code"]) == (
        "Room A", "active", "ro"
    )  # fmt: skip
    visit = next(a for a in kinds["Appointment"] if a["id"] == str(ids["visit"]))
    actors = [p["actor"] for p in visit["participant"]]
    assert {"reference": f"Practitioner/{ids['user']}", "display": "Pat Reyes"} in actors
    assert {"reference": f"Location/{room['id']}", "display": "Room A"} in actors
    performer = kinds["Procedure"][0]["performer"][0]["actor"]
    assert performer["reference"] == f"Practitioner/{ids['user']}"
    present = {entry["fullUrl"] for entry in document["entry"]}
    referenced = set(_references(document["entry"]))
    assert referenced and referenced <= present


def test_a_session_given_in_a_visit_is_located_in_its_room(store: Store) -> None:
    ids = seed_client(store)
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids["client"],
                                     practitioner_id=ids["user"], appointment_id=ids["visit"])  # fmt: skip
    recorder.finish("completed", dose_by_zone=DOSES[1])
    kinds = _by_type(_export(store, ids["client"]))
    room_id = kinds["Location"][0]["id"]
    procedure = next(p for p in kinds["Procedure"] if p["id"] == str(recorder.session_id))
    assert procedure["location"] == {"reference": f"Location/{room_id}", "display": "Room A"}
    with store.transaction() as db:
        owner, alone = read_resource(db, resource_type="Procedure", resource_id=procedure["id"])
        _none, location = read_resource(db, resource_type="Location", resource_id=room_id)
    assert owner == ids["client"] and json.loads(json.dumps(alone)) == procedure
    assert json.loads(json.dumps(location)) == kinds["Location"][0]


def test_an_account_that_does_not_treat_is_no_practitioner(store: Store) -> None:
    ids = seed_client(store)
    with store.transaction() as db:
        other = create_user(db, email="desk@fhir.example", display_name="Ana Home",
                            role="reception")  # fmt: skip
        other_id = other.id
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids["client"],
                                     practitioner_id=other_id)  # fmt: skip
    recorder.finish("completed", dose_by_zone=DOSES[1])
    kinds = _by_type(_export(store, ids["client"]))
    assert [p["id"] for p in kinds["Practitioner"]] == [str(ids["user"])]
    procedure = next(p for p in kinds["Procedure"] if p["id"] == str(recorder.session_id))
    assert procedure["performer"] == [{"actor": {"display": "Ana Home"}}]
    with store.transaction() as db, pytest.raises(NotFound):
        read_resource(db, resource_type="Practitioner", resource_id=str(other_id))
