"""A client's record as HL7 FHIR (release 4B, 4.3.0, the R4 line): one Bundle, and each
resource on its own.

Patient; a QuestionnaireResponse per intake version, answering microamp's intake Questionnaire;
a Consent per signature carrying the signed document (the PDF of a form signed before the
visit, else the consent wording signed by typing the name); an Appointment per visit; a
Procedure per session with the Device as ``focalDevice`` and a body site per treated zone; per
zone an Observation of the delivered charge, mean current, stimulation time and mean impedance
(UCUM units), straight from the record's dose by zone; a Media per photo with an Observation per
photo measure; and, when asked, an AuditEvent per audit row naming the client.

Every resource is checked against the `fhir.resources` R4B models before it leaves. Ids are the
store's row ids (Observation ids name their session or photo, zone or measure, and figure;
Device ids a digest of the device's address). Zones carry SNOMED CT body-structure codes where
one names the zone as the clinic means it, and text alone where none does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.consent import consent_text
from microamp.clinic.intake import BOOLEAN_KEYS, DATE_OR_NULL_KEYS, INTAKE_KEYS, ZONE_LIST_KEYS
from microamp.clinic.questions import QUESTIONS
from microamp.errors import InvalidValue, NotFound
from microamp.safety.limits import ZONES
from microamp.store.access import AuditEntry
from microamp.store.book_models import Room, Service
from microamp.store.crud import get_client, get_or_404
from microamp.store.history import screening_versions
from microamp.store.models import Appointment, Client, Consent, ProgressEntry, User
from microamp.store.outcomes import client_photos
from microamp.store.photo_blobs import entry_photo
from microamp.store.previsit import PrevisitSubmission
from microamp.store.records import list_session_records
from microamp.store.session_models import TreatmentSession

__all__ = [
    "CODE_SYSTEM",
    "DOSE_FIGURES",
    "FHIR_VERSION",
    "RESOURCE_TYPES",
    "ResourceType",
    "ZONE_SNOMED",
    "client_bundle",
    "device_id",
    "read_resource",
    "validate_resource",
]

FHIR_VERSION = "4.3.0"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
# microamp's own codes: the dose figures, photo measures, zones and identifiers
CODE_SYSTEM = "urn:microamp:fhir"
QUESTIONNAIRE_ID = "microamp-intake"
QUESTIONNAIRE_URL = f"{CODE_SYSTEM}:questionnaire:intake"
ResourceType = Literal[
    "Patient",
    "Questionnaire",
    "QuestionnaireResponse",
    "Consent",
    "Appointment",
    "Device",
    "Practitioner",
    "Location",
    "Procedure",
    "Observation",
    "Media",
    "AuditEvent",
]
RESOURCE_TYPES: tuple[str, ...] = get_args(ResourceType)
# SNOMED CT body structures for the zones that have one meaning what the clinic treats there;
# the brows, the area around the eyes and the jawline are given as text only
ZONE_SNOMED: dict[str, tuple[str, str]] = {
    "forehead": ("52795006", "Forehead structure"),
    "nose": ("45206002", "Nasal structure"),
    "cheeks": ("60819002", "Cheek structure"),
    "mouth": ("123851003", "Mouth region structure"),
    "chin": ("30291003", "Chin structure"),
    "neck": ("45048000", "Neck structure"),
}
# a zone's dose figure: (the record's key, id part, what it is, UCUM code, unit as printed)
DOSE_FIGURES = (
    ("charge_uc", "charge", "delivered charge", "uC", "µC"),
    ("mean_current_ua", "current", "mean current", "uA", "µA"),
    ("stimulation_s", "time", "stimulation time", "s", "s"),
    ("mean_impedance_ohm", "impedance", "mean impedance", "Ohm", "Ω"),
)
_FIGURE_BY_PART = {part: figure for figure in DOSE_FIGURES for part in (figure[1],)}
_PROCEDURE_STATUS = {
    "running": "in-progress",
    "completed": "completed",
    "stopped": "stopped",
    "aborted": "stopped",
    "interrupted": "stopped",
    "refused": "not-done",
}
_APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "checked_in": "checked-in",
    "in_treatment": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
_PLAIN_ZONE = re.compile(r"[a-z0-9]{1,24}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_ROW_ID = re.compile(r"[1-9][0-9]{0,9}")
_MAX_ROW_ID = 2_147_483_647
_QUESTION_TEXT = {"date_of_birth": "Date of birth", **QUESTIONS}
# the roles whose users are FHIR Practitioners: a reception or a home account is a person too,
# but not one who treats (and a home account's name is a client's)
_PRACTITIONER_ROLES = ("owner", "practitioner")
_ROOM_TYPE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": "ro",
            "display": "Room",
        }
    ]
}


def _treats(user: User) -> bool:
    """Whether ``user`` is a Practitioner of the export."""
    return user.role in _PRACTITIONER_ROLES


def _ref(resource_type: str, resource_id: object) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def _zone_concept(zone: str) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": zone}
    if zone in ZONE_SNOMED:
        code, display = ZONE_SNOMED[zone]
        concept["coding"] = [{"system": SNOMED, "code": code, "display": display}]
    return concept


def _own(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": CODE_SYSTEM, "code": code, "display": display}], "text": display}


@lru_cache(maxsize=256)
def device_id(device_url: str) -> str:
    """The Device id of a device address: a digest, so an address never shows in a path."""
    return "d-" + hashlib.sha256(device_url.encode("utf-8")).hexdigest()[:20]


def _zone_part(zone: str) -> str:
    """The zone as a part of an Observation id: its name, or a digest of a name that is not
    a short run of letters and digits (a record written with a zone of another spelling)."""
    if _PLAIN_ZONE.fullmatch(zone):
        return zone
    return "z" + hashlib.sha256(zone.encode("utf-8")).hexdigest()[:16]


def _fhir_part(name: str) -> str:
    return name.replace("_", "-")


def _name_part(part: str) -> str:
    return part.replace("-", "_")


# -- the resources -----------------------------------------------------------------------------


def _patient(client: Client) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(client.id),
        "identifier": [{"system": f"{CODE_SYSTEM}:client", "value": str(client.id)}],
        "active": client.archived_at is None,
        "name": [{"text": client.full_name}],
        "birthDate": client.date_of_birth.isoformat(),
    }
    telecom = [{"system": "email", "value": client.email}] if client.email else []
    telecom += [{"system": "phone", "value": client.phone}] if client.phone else []
    if telecom:
        resource["telecom"] = telecom
    if client.merged_into_id is not None:
        resource["link"] = [
            {"other": _ref("Patient", client.merged_into_id), "type": "replaced-by"}
        ]
    return resource


def _questionnaire() -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for key in INTAKE_KEYS:
        item: dict[str, Any] = {"linkId": key, "text": _QUESTION_TEXT[key]}
        if key == "date_of_birth":
            item |= {"type": "date", "required": True}
        elif key in BOOLEAN_KEYS:
            item |= {"type": "boolean", "required": True}
        elif key in ZONE_LIST_KEYS:
            item |= {
                "type": "choice",
                "repeats": True,
                "answerOption": [
                    {"valueCoding": {"system": f"{CODE_SYSTEM}:zone", "code": z, "display": z}}
                    for z in ZONES
                ],
            }
        else:  # a date, or never
            item |= {"type": "date"}
        items.append(item)
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": QUESTIONNAIRE_URL,
        "name": "MicroampIntake",
        "title": "microamp intake: contraindications and recent treatments",
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


def _answers(key: str, value: Any) -> list[dict[str, Any]]:
    if value is None or value == []:
        return []
    if key in BOOLEAN_KEYS:
        return [{"valueBoolean": bool(value)}]
    if key in ZONE_LIST_KEYS:
        return [
            {"valueCoding": {"system": f"{CODE_SYSTEM}:zone", "code": z, "display": z}}
            for z in value
        ]
    if key == "date_of_birth" or key in DATE_OR_NULL_KEYS:
        return [{"valueDate": str(value)}]
    return [{"valueString": str(value)}]


def _questionnaire_response(client_id: int, version: dict[str, Any]) -> dict[str, Any]:
    items = []
    for key in INTAKE_KEYS:
        item: dict[str, Any] = {"linkId": key, "text": _QUESTION_TEXT[key]}
        answers = _answers(key, version["answers"].get(key))
        if answers:
            item["answer"] = answers
        items.append(item)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(version["id"]),
        "identifier": {"system": f"{CODE_SYSTEM}:intake-version", "value": str(version["version"])},
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "subject": _ref("Patient", client_id),
        "authored": version["recorded_at"],
        "item": items,
    }
    if version["recorded_by"]:
        resource["author"] = {"display": version["recorded_by"]}
    return resource


def _signed_document(consent: Consent, pdf: bytes | None) -> dict[str, Any]:
    """The document she signed: the PDF of her form, else the wording with her typed name."""
    if pdf is not None:
        return {
            "contentType": "application/pdf",
            "data": base64.b64encode(pdf).decode("ascii"),
            "size": len(pdf),
            "title": f"Signed form, consent version {consent.text_version}",
            "creation": _instant(consent.signed_at),
        }
    try:
        wording = consent_text(consent.text_version)
        text = f"{wording.title}\n\n{wording.text}\n\n"
    except InvalidValue:
        text = f"Consent version {consent.text_version} (its wording is no longer on file)\n\n"
    text += (
        f"Signed by typing the name {consent.typed_signature!r} at {_instant(consent.signed_at)}"
    )
    data = text.encode("utf-8")
    return {
        "contentType": "text/plain; charset=utf-8",
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "title": f"Consent version {consent.text_version}, signed",
        "creation": _instant(consent.signed_at),
    }


def _consent(consent: Consent, pdf: bytes | None) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": str(consent.id),
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "treatment",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": _ref("Patient", consent.client_id),
        "dateTime": _instant(consent.signed_at),
        "performer": [_ref("Patient", consent.client_id)],
        "policyRule": {"text": f"microamp consent, version {consent.text_version}"},
        "sourceAttachment": _signed_document(consent, pdf),
    }


@dataclass
class _Names:
    """The staff, rooms and services the resources name, read once per export."""

    users: dict[int, User] = field(default_factory=dict)
    rooms: dict[int, Room] = field(default_factory=dict)
    services: dict[int, str] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session) -> _Names:
        return cls(
            users={u.id: u for u in session.scalars(select(User))},
            rooms={r.id: r for r in session.scalars(select(Room))},
            services={s.id: s.name for s in session.scalars(select(Service))},
        )

    def practitioner(self, user_id: int) -> dict[str, str]:
        """The actor for ``user_id``: a reference to its Practitioner where the user treats,
        a name alone otherwise."""
        user = self.users.get(user_id)
        if user is None:
            return {"display": f"user {user_id}"}
        if not _treats(user):
            return {"display": user.display_name}
        return _ref("Practitioner", user.id) | {"display": user.display_name}

    def location(self, room_id: int) -> dict[str, str]:
        room = self.rooms.get(room_id)
        if room is None:
            return {"display": f"room {room_id}"}
        return _ref("Location", room.id) | {"display": room.name}


def _practitioner(user: User) -> dict[str, Any]:
    """A member of staff who treats: the name only (their e-mail is a sign-in, not a contact
    the clinic publishes)."""
    return {
        "resourceType": "Practitioner",
        "id": str(user.id),
        "active": bool(user.active),
        "name": [{"text": user.display_name}],
    }


def _location(room: Room) -> dict[str, Any]:
    return {
        "resourceType": "Location",
        "id": str(room.id),
        "status": "active" if room.active else "inactive",
        "name": room.name,
        "mode": "instance",
        "physicalType": _ROOM_TYPE,
    }


def _appointment(visit: Appointment, names: _Names) -> dict[str, Any]:
    status = _APPOINTMENT_STATUS.get(visit.state, "booked")
    if visit.starts_at is None and status not in ("cancelled",):
        status = "proposed"  # a planned session of a course, not booked to a time yet
    participants: list[dict[str, Any]] = [
        {"actor": _ref("Patient", visit.client_id), "status": "accepted"}
    ]
    if visit.practitioner_id is not None:
        participants.append(
            {"actor": names.practitioner(visit.practitioner_id), "status": "accepted"}
        )
    if visit.room_id is not None:
        participants.append({"actor": names.location(visit.room_id), "status": "accepted"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(visit.id),
        "status": status,
        "participant": participants,
        "created": _instant(visit.created_at),
    }
    if visit.service_id is not None:
        resource["serviceType"] = [{"text": names.services.get(visit.service_id, "service")}]
    if visit.starts_at is not None and visit.ends_at is not None:
        resource["start"] = _instant(visit.starts_at)
        resource["end"] = _instant(visit.ends_at)
    else:
        resource["requestedPeriod"] = [{"start": visit.on_date.isoformat()}]
    if visit.number is not None:
        phase = f", {visit.phase}" if visit.phase else ""
        resource["description"] = f"session {visit.number} of a course{phase}"
    if visit.notes:
        resource["comment"] = visit.notes
    return resource


def _device(device_url: str, capabilities: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": device_id(device_url),
        "status": "active",
        "type": {"text": "microcurrent stimulator"},
        "deviceName": [{"name": device_url or "unnamed device", "type": "other"}],
    }
    if capabilities:
        text = json.dumps(capabilities, sort_keys=True, default=str)
        resource["note"] = [{"text": f"capabilities: {text}"}]
    return resource


def _dose(record: TreatmentSession) -> dict[str, dict[str, Any]]:
    return {str(z): d for z, d in (record.dose_by_zone or {}).items() if isinstance(d, dict)}


def _procedure(
    record: TreatmentSession, names: _Names, room_id: int | None = None
) -> dict[str, Any]:
    """The session as a Procedure; ``room_id`` the room of the visit it was given in, if any."""
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": str(record.id),
        "status": _PROCEDURE_STATUS.get(record.status, "unknown"),
        "code": {"text": "microcurrent facial treatment"},
        "subject": _ref("Patient", record.client_id),
        "focalDevice": [
            {
                "action": {"text": "applied"},
                "manipulated": _ref("Device", device_id(record.device_url)),
            }
        ],
    }
    period = {"start": _instant(record.started_at)}
    if record.ended_at is not None:
        period["end"] = _instant(record.ended_at)
    resource["performedPeriod"] = period
    if record.practitioner_id is not None:
        resource["performer"] = [{"actor": names.practitioner(record.practitioner_id)}]
    if room_id is not None:
        resource["location"] = names.location(room_id)
    zones = list(_dose(record))
    if zones:
        resource["bodySite"] = [_zone_concept(z) for z in zones]
    if record.refusal_reasons:
        resource["statusReason"] = {"text": "; ".join(record.refusal_reasons)}
    protocol = record.protocol_name + (
        f" {record.protocol_version}" if record.protocol_version else ""
    )
    notes = [{"text": f"protocol: {protocol}"}]
    if record.notes:
        notes.append({"text": record.notes})
    if record.feedback_comfort is not None:
        notes.append({"text": f"comfort reported: {record.feedback_comfort} of 10"})
    resource["note"] = notes
    if record.appointment_id is not None:
        resource["extension"] = [
            {
                "url": f"{CODE_SYSTEM}:appointment",
                "valueReference": _ref("Appointment", record.appointment_id),
            }
        ]
    return resource


def _dose_observation(
    record: TreatmentSession, zone: str, figure: tuple[str, str, str, str, str], value: Any
) -> dict[str, Any]:
    key, part, what, ucum, unit = figure
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{record.id}-{_zone_part(zone)}-{part}",
        "status": "preliminary" if record.status == "running" else "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "procedure",
                    }
                ]
            }
        ],
        "code": _own(f"dose-{part}", f"{what} to the {zone}"),
        "subject": _ref("Patient", record.client_id),
        "partOf": [_ref("Procedure", record.id)],
        "effectiveDateTime": _instant(record.started_at),
        "device": _ref("Device", device_id(record.device_url)),
        "bodySite": _zone_concept(zone),
    }
    if isinstance(value, int | float) and not isinstance(value, bool):
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": ucum}
    else:
        resource["dataAbsentReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "unknown",
                }
            ],
            "text": f"no {what} was measured",
        }
    return resource


def _dose_observations(record: TreatmentSession) -> Iterator[dict[str, Any]]:
    for zone, dose in _dose(record).items():
        for figure in DOSE_FIGURES:
            yield _dose_observation(record, zone, figure, dose.get(figure[0]))


def _measure_unit(name: str) -> tuple[str, str]:
    if name.endswith("_deg"):
        return "deg", "°"
    if name.endswith("_pct"):
        return "%", "%"
    return "mm", "mm"


def _media(entry: ProgressEntry, photo: tuple[bytes, str] | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Media",
        "id": str(entry.id),
        "status": "completed",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image"}
            ]
        },
        "subject": _ref("Patient", entry.client_id),
        "createdDateTime": entry.taken_on.isoformat(),
        "content": {"contentType": "image/jpeg", "title": f"photo of {entry.taken_on}"},
    }
    if entry.view:
        resource["view"] = {"text": entry.view}
    if photo is not None:
        data, media_type = photo
        resource["content"] = {
            "contentType": media_type,
            "data": base64.b64encode(data).decode("ascii"),
            "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # noqa: S324 - FHIR's Attachment.hash is SHA-1
            "title": f"photo of {entry.taken_on}",
        }
    notes = [n for n in (entry.lighting_notes, entry.notes) if n]
    if entry.treatment_session_id is not None:
        resource["partOf"] = [_ref("Procedure", entry.treatment_session_id)]
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


def _photo_observation(entry: ProgressEntry, name: str, value: float) -> dict[str, Any]:
    ucum, unit = _measure_unit(name)
    measurement = entry.measurement or {}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"photo-{entry.id}-{_fhir_part(name)}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "imaging",
                    }
                ]
            }
        ],
        "code": _own(f"measure-{_fhir_part(name)}", name.replace("_", " ")),
        "subject": _ref("Patient", entry.client_id),
        "effectiveDateTime": entry.taken_on.isoformat(),
        "derivedFrom": [_ref("Media", entry.id)],
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
    }
    flags = list(measurement.get("flags", []))
    if flags:
        resource["note"] = [{"text": "not comparable: " + "; ".join(map(str, flags))}]
    return resource


def _photo_observations(entry: ProgressEntry) -> Iterator[dict[str, Any]]:
    measures = (entry.measurement or {}).get("measures", {})
    for name, value in measures.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield _photo_observation(entry, str(name), float(value))


def _audit_event(row: AuditEntry) -> dict[str, Any]:
    details = [
        {"type": "seq", "valueString": str(row.seq)},
        {"type": "resource", "valueString": row.resource},
        {"type": "hash", "valueString": row.hash},
    ]
    details += [{"type": str(k), "valueString": str(v)} for k, v in sorted(row.detail.items())]
    entity: dict[str, Any] = {"detail": details}
    if row.client_id is not None:
        entity["what"] = _ref("Patient", row.client_id)
    return {
        "resourceType": "AuditEvent",
        "id": str(row.id),
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110110",
            "display": "Patient Record",
        },
        "action": "R" if row.action == "read" else "U",
        "recorded": _instant(row.at),
        "agent": [{"who": {"display": row.actor}, "requestor": True}],
        "source": {"observer": {"display": "microamp"}},
        "entity": [entity],
    }


# -- reading -----------------------------------------------------------------------------------


def _consent_pdfs(session: Session, consent_ids: Iterable[int]) -> dict[int, bytes]:
    ids = list(consent_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(PrevisitSubmission.consent_id, PrevisitSubmission.pdf).where(
            PrevisitSubmission.consent_id.in_(ids)
        )
    )
    return {int(cid): bytes(pdf) for cid, pdf in rows if cid is not None}


def _photo_of(session: Session, entry: ProgressEntry) -> tuple[bytes, str] | None:
    stored = entry_photo(session, entry)
    return (stored.data, stored.media_type) if stored is not None else None


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{resource['resourceType']}/{resource['id']}", "resource": resource}


def _staff_and_rooms(
    names: _Names, visits: list[Appointment], records: list[TreatmentSession]
) -> Iterator[dict[str, Any]]:
    """The Practitioners and Locations that the client's visits and sessions refer to, each
    once, so that every reference of the Bundle resolves inside it."""
    user_ids = [v.practitioner_id for v in visits] + [r.practitioner_id for r in records]
    for user_id in sorted({u for u in user_ids if u is not None}):
        user = names.users.get(user_id)
        if user is not None and _treats(user):
            yield _practitioner(user)
    for room_id in sorted({v.room_id for v in visits if v.room_id is not None}):
        room = names.rooms.get(room_id)
        if room is not None:
            yield _location(room)


def _client_resources(
    session: Session, client: Client, *, include_audit: bool
) -> Iterator[dict[str, Any]]:
    names = _Names.read(session)
    yield _patient(client)
    versions = screening_versions(session, client_id=client.id)
    if versions:
        yield _questionnaire()
    for version in reversed(versions):  # oldest first
        yield _questionnaire_response(client.id, version)
    consents = list(
        session.scalars(select(Consent).where(Consent.client_id == client.id).order_by(Consent.id))
    )
    pdfs = _consent_pdfs(session, (c.id for c in consents))
    for consent in consents:
        yield _consent(consent, pdfs.get(consent.id))
    visits = list(
        session.scalars(
            select(Appointment)
            .where(Appointment.client_id == client.id)
            .order_by(Appointment.on_date, Appointment.id)
        )
    )
    records = list_session_records(session, client_id=client.id, limit=_MAX_ROW_ID)[::-1]
    yield from _staff_and_rooms(names, visits, records)
    for visit in visits:
        yield _appointment(visit, names)
    room_of_visit = {v.id: v.room_id for v in visits}
    for url in dict.fromkeys(record.device_url for record in records):
        yield _device_at(session, url)
    for record in records:
        room_id = room_of_visit.get(record.appointment_id) if record.appointment_id else None
        yield _procedure(record, names, room_id)
        yield from _dose_observations(record)
    for entry in client_photos(session, client_id=client.id):
        yield _media(entry, _photo_of(session, entry))
        yield from _photo_observations(entry)
    if include_audit:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.client_id == client.id).order_by(AuditEntry.seq)
        )
        for row in rows:
            yield _audit_event(row)


def client_bundle(
    session: Session, *, client_id: int, include_audit: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """Everything held on the client as one FHIR Bundle (``searchset``, as ``$everything``
    answers), checked against the R4B models; the audit rows naming her with
    ``include_audit``. `NotFound` for no such client."""
    client = get_client(session, client_id=client_id)
    entries = [_entry(r) for r in _client_resources(session, client, include_audit=include_audit)]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": f"patient-{client.id}-everything",
        "meta": {"lastUpdated": _instant(now or datetime.now().astimezone())},
        "type": "searchset",
        "total": len(entries),
        "entry": entries,
    }
    validate_resource(bundle)
    return bundle


def validate_resource(resource: dict[str, Any]) -> None:
    """Check ``resource`` (a Bundle checks every entry) against the `fhir.resources` R4B
    models; a failure is a fault of this module, raised as ``ValueError``."""
    from fhir.resources.R4B import get_fhir_model_class

    model = get_fhir_model_class(str(resource["resourceType"]))
    model.model_validate(resource)


def _row_id(field_name: str, raw: str) -> int:
    if not _ROW_ID.fullmatch(raw) or int(raw) > _MAX_ROW_ID:
        raise NotFound(f"no {field_name} {raw}")
    return int(raw)


def _client_record(session: Session, record_id: int) -> TreatmentSession:
    record = get_or_404(session, TreatmentSession, record_id)
    if record.client_id is None:
        raise NotFound(f"no session {record_id} on a client's record")
    return record


def _read_observation(session: Session, resource_id: str) -> tuple[int | None, dict[str, Any]]:
    parts = resource_id.split("-")
    if parts[0] == "photo" and len(parts) >= 3:
        entry = get_or_404(session, ProgressEntry, _row_id("observation", parts[1]))
        name = _name_part("-".join(parts[2:]))
        value = (entry.measurement or {}).get("measures", {}).get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return entry.client_id, _photo_observation(entry, name, float(value))
    elif len(parts) == 3 and parts[2] in _FIGURE_BY_PART:
        record = _client_record(session, _row_id("observation", parts[0]))
        for zone, dose in _dose(record).items():
            if _zone_part(zone) == parts[1]:
                figure = _FIGURE_BY_PART[parts[2]]
                observation = _dose_observation(record, zone, figure, dose.get(figure[0]))
                return record.client_id, observation
    raise NotFound(f"no observation {resource_id}")


def _device_at(session: Session, device_url: str) -> dict[str, Any]:
    """The Device at ``device_url`` as the first session recorded with it described it."""
    first = session.scalars(
        select(TreatmentSession.device_capabilities)
        .where(TreatmentSession.device_url == device_url)
        .order_by(TreatmentSession.id)
        .limit(1)
    ).first()
    return _device(device_url, first or {})


def _read_device(session: Session, resource_id: str) -> tuple[int | None, dict[str, Any]]:
    for url in session.scalars(select(TreatmentSession.device_url).distinct()):
        if device_id(url) == resource_id:
            return None, _device_at(session, url)
    raise NotFound(f"no device {resource_id}")


def _read_practitioner(session: Session, resource_id: str) -> dict[str, Any]:
    user = session.get(User, _row_id("practitioner", resource_id))
    if user is None or not _treats(user):
        raise NotFound(f"no practitioner {resource_id}")
    return _practitioner(user)


def _room_of_visit(session: Session, appointment_id: int | None) -> int | None:
    if appointment_id is None:
        return None
    visit = session.get(Appointment, appointment_id)
    return visit.room_id if visit is not None else None


def read_resource(
    session: Session, *, resource_type: str, resource_id: str
) -> tuple[int | None, dict[str, Any]]:
    """One resource by type and id, checked against the R4B models, with the id of the client
    it belongs to (None for the Questionnaire, a Device, a Practitioner and a Location).
    `InvalidValue` on ``resource_type`` for a type this export has not; `NotFound` for no such
    resource."""
    if resource_type not in RESOURCE_TYPES:
        raise InvalidValue("resource_type", resource_type, f"one of {', '.join(RESOURCE_TYPES)}")
    if not _ID.fullmatch(resource_id):
        raise NotFound(f"no {resource_type} {resource_id}")
    client_id: int | None
    if resource_type == "Patient":
        client = get_client(session, client_id=_row_id("client", resource_id))
        client_id, resource = client.id, _patient(client)
    elif resource_type == "Questionnaire":
        if resource_id != QUESTIONNAIRE_ID:
            raise NotFound(f"no questionnaire {resource_id}")
        client_id, resource = None, _questionnaire()
    elif resource_type == "QuestionnaireResponse":
        client_id, resource = _read_response(session, _row_id("intake form", resource_id))
    elif resource_type == "Consent":
        consent = get_or_404(session, Consent, _row_id("consent", resource_id))
        pdf = _consent_pdfs(session, [consent.id]).get(consent.id)
        client_id, resource = consent.client_id, _consent(consent, pdf)
    elif resource_type == "Appointment":
        visit = get_or_404(session, Appointment, _row_id("appointment", resource_id))
        client_id, resource = visit.client_id, _appointment(visit, _Names.read(session))
    elif resource_type == "Device":
        client_id, resource = _read_device(session, resource_id)
    elif resource_type == "Practitioner":
        client_id, resource = None, _read_practitioner(session, resource_id)
    elif resource_type == "Location":
        room = get_or_404(session, Room, _row_id("room", resource_id))
        client_id, resource = None, _location(room)
    elif resource_type == "Procedure":
        record = _client_record(session, _row_id("session", resource_id))
        client_id, resource = (
            record.client_id,
            _procedure(
                record, _Names.read(session), _room_of_visit(session, record.appointment_id)
            ),
        )
    elif resource_type == "Observation":
        client_id, resource = _read_observation(session, resource_id)
    elif resource_type == "Media":
        entry = get_or_404(session, ProgressEntry, _row_id("photo", resource_id))
        if entry.photo_sha256 is None:
            raise NotFound(f"no photo {resource_id}")
        client_id, resource = entry.client_id, _media(entry, _photo_of(session, entry))
    else:
        row = get_or_404(session, AuditEntry, _row_id("audit entry", resource_id))
        if row.client_id is None:
            raise NotFound(f"no audit event {resource_id} on a client's record")
        client_id, resource = row.client_id, _audit_event(row)
    validate_resource(resource)
    return client_id, resource


def _read_response(session: Session, form_id: int) -> tuple[int, dict[str, Any]]:
    from microamp.store.models import IntakeForm

    form = get_or_404(session, IntakeForm, form_id)
    for version in screening_versions(session, client_id=form.client_id):
        if version["id"] == form.id:
            return form.client_id, _questionnaire_response(form.client_id, version)
    raise NotFound(f"no intake form {form_id}")  # pragma: no cover - the form was just read
