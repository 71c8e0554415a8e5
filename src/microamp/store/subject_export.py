"""A person's full export, for her subject access request: one ZIP archive of everything held
on her.

``record.json``            her record: details, every intake version, safety flags, consents,
                           clearances, course plans, appointments, sessions (what the device
                           delivered per zone, events, telemetry summary) and photo entries with
                           their measures
``fhir-bundle.json``       the FHIR R4B Bundle of `microamp.store.fhir.client_bundle`
``consents/*.pdf``         each consent as signed: the PDF of a form signed before the visit,
                           else a PDF of the wording with the name she typed
``photos/*``               her photos, byte for byte as kept
``charts/session-N.svg``   the telemetry chart of each session that recorded telemetry
``index.html``             a summary to read in any browser, with no script and nothing fetched
                           from outside the archive

The archive is written entry by entry into a binary file object (seekable or not): a photo's
bytes and a session's telemetry are read, written and let go one at a time, so a client with
many photos needs no more memory than her largest photo. The FHIR Bundle is the one exception:
it is built whole, as ``$everything`` answers it.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from microamp.clinic.consent import consent_text
from microamp.clinic.consent_pdf import typed_consent_pdf
from microamp.errors import InvalidValue
from microamp.store.book_models import Room, Service
from microamp.store.crud import get_client
from microamp.store.fhir import client_bundle
from microamp.store.history import client_history
from microamp.store.models import Appointment, Client, Consent, CoursePlan, ProgressEntry, User
from microamp.store.photo_blobs import entry_photo
from microamp.store.previsit import PrevisitSubmission
from microamp.store.records import list_session_records, session_record_dict, session_telemetry
from microamp.store.subject_summary import summary_html
from microamp.store.telemetry import COLUMNS
from microamp.viz.series_chart import session_chart_svg

__all__ = ["ARCHIVE_FORMAT", "ArchiveContents", "person_record", "write_person_archive"]

ARCHIVE_FORMAT = "microamp subject access export 1"
_MAX_ROW_ID = 2_147_483_647
_PHOTO_SUFFIX = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

Progress = Callable[[str], None]


@dataclass
class ArchiveContents:
    """What an archive holds: its file names by kind, and how many of each record."""

    files: list[str] = field(default_factory=list)
    consents: dict[int, str] = field(default_factory=dict)  # consent id -> file
    photos: dict[int, str] = field(default_factory=dict)  # progress entry id -> file
    charts: dict[int, str] = field(default_factory=dict)  # session id -> file
    sessions: int = 0


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _client(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "full_name": client.full_name,
        "date_of_birth": client.date_of_birth.isoformat(),
        "email": client.email,
        "phone": client.phone,
        "fitzpatrick_type": client.fitzpatrick_type,
        "concerns": list(client.concerns),
        "preferred_weekdays": list(client.preferred_weekdays),
        "allergies": client.allergies,
        "medications": client.medications,
        "notes": client.notes,
        "created_at": _iso(client.created_at),
        "archived_at": _iso(client.archived_at),
    }


def _consents(session: Session, client_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Consent).where(Consent.client_id == client_id).order_by(Consent.id)
    )
    return [
        {
            "id": c.id,
            "text_version": c.text_version,
            "typed_signature": c.typed_signature,
            "signed_at": _iso(c.signed_at),
        }
        for c in rows
    ]


def _plans(session: Session, client_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CoursePlan).where(CoursePlan.client_id == client_id).order_by(CoursePlan.id)
    )
    return [
        {
            "id": p.id,
            "template": p.template,
            "protocol_name": p.protocol_name,
            "start_date": p.start_date.isoformat(),
            "weekdays": list(p.weekdays),
            "months": p.months,
            "price_per_session_cents": p.price_per_session_cents,
            "estimated_cost_cents": p.estimated_cost_cents,
            "created_at": _iso(p.created_at),
        }
        for p in rows
    ]


def _names(session: Session, query: Select[int, str]) -> dict[int, str]:
    """Row id to name, of the ``select(id, name)`` ``query``."""
    return {int(i): str(n) for i, n in session.execute(query)}


def _appointments(session: Session, client_id: int) -> list[dict[str, Any]]:
    users = _names(session, select(User.id, User.display_name))
    rooms = _names(session, select(Room.id, Room.name))
    services = _names(session, select(Service.id, Service.name))
    rows = session.scalars(
        select(Appointment)
        .where(Appointment.client_id == client_id)
        .order_by(Appointment.on_date, Appointment.id)
    )
    return [
        {
            "id": a.id,
            "on_date": a.on_date.isoformat(),
            "starts_at": _iso(a.starts_at),
            "ends_at": _iso(a.ends_at),
            "state": a.state,
            "service": services.get(a.service_id) if a.service_id else None,
            "room": rooms.get(a.room_id) if a.room_id else None,
            "practitioner": users.get(a.practitioner_id) if a.practitioner_id else None,
            "plan_id": a.plan_id,
            "number_in_plan": a.number,
            "phase": a.phase,
            "treatment_session_id": a.treatment_session_id,
            "notes": a.notes,
        }
        for a in rows
    ]


def _progress_entries(session: Session, client_id: int) -> list[ProgressEntry]:
    return list(
        session.scalars(
            select(ProgressEntry)
            .where(ProgressEntry.client_id == client_id)
            .order_by(ProgressEntry.taken_on, ProgressEntry.id)
        )
    )


def _photo_entry(entry: ProgressEntry, file: str | None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "taken_on": entry.taken_on.isoformat(),
        "view": entry.view,
        "treatment_session_id": entry.treatment_session_id,
        "ratings": dict(entry.ratings),
        "notes": entry.notes,
        "lighting_notes": entry.lighting_notes,
        "photo_use_consent": entry.photo_use_consent,
        "photo_sha256": entry.photo_sha256,
        "photo_file": file,
        "measurement": entry.measurement,
        "unmeasured": entry.unmeasured,
    }


def _session_ids(session: Session, client_id: int) -> list[int]:
    return [r.id for r in list_session_records(session, client_id=client_id, limit=_MAX_ROW_ID)][
        ::-1
    ]


def person_record(
    session: Session, *, client_id: int, contents: ArchiveContents | None = None
) -> dict[str, Any]:
    """Everything held on the client as one JSON document, oldest first within each list;
    ``contents`` names the archive's files for her photos. `NotFound` for no such client."""
    client = get_client(session, client_id=client_id)
    history = client_history(session, client_id=client.id)
    photos = contents.photos if contents is not None else {}
    return {
        "format": ARCHIVE_FORMAT,
        "client": _client(client),
        "screenings": history["screenings"][::-1],  # every intake version, the first first
        "safety_flags": history["flags"],
        "consents": _consents(session, client.id),
        "clearances": history["clearances"],
        "plans": _plans(session, client.id),
        "appointments": _appointments(session, client.id),
        "sessions": [
            session_record_dict(session, session_id=sid) for sid in _session_ids(session, client.id)
        ],
        "photos": [
            _photo_entry(e, photos.get(e.id)) for e in _progress_entries(session, client.id)
        ],
    }


def _consent_pdf(session: Session, client: Client, consent: Consent) -> bytes:
    """The PDF of her form signed before the visit, else one made of the wording she signed by
    typing her name."""
    kept = session.scalar(
        select(PrevisitSubmission.pdf).where(PrevisitSubmission.consent_id == consent.id)
    )
    if kept is not None:
        return bytes(kept)
    try:
        wording = consent_text(consent.text_version)
    except InvalidValue:
        wording = None
    return typed_consent_pdf(full_name=client.full_name, text_version=consent.text_version,
                             consent=wording, typed_name=consent.typed_signature,
                             signed_at=consent.signed_at)  # fmt: skip


class _Writer:
    """The archive being written, and what it holds so far."""

    def __init__(self, archive: zipfile.ZipFile, progress: Progress) -> None:
        self.archive = archive
        self.progress = progress
        self.contents = ArchiveContents()

    def write(self, name: str, data: bytes, *, compress: bool = True) -> None:
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self.archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=method)
        self.contents.files.append(name)

    def write_json(self, name: str, document: Any) -> None:
        info = zipfile.ZipInfo(name, _ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with self.archive.open(info, "w") as raw, io.TextIOWrapper(raw, "utf-8") as text:
            json.dump(document, text, ensure_ascii=False, indent=1)
        self.contents.files.append(name)


# a fixed time for every entry: the archive's bytes then depend on the record alone
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _write_consents(session: Session, client: Client, out: _Writer) -> None:
    consents = session.scalars(
        select(Consent).where(Consent.client_id == client.id).order_by(Consent.id)
    )
    for consent in consents:
        name = f"consents/consent-{consent.id}.pdf"
        out.write(name, _consent_pdf(session, client, consent))
        out.contents.consents[consent.id] = name


def _write_photos(session: Session, client_id: int, out: _Writer) -> None:
    entries = [e for e in _progress_entries(session, client_id) if e.has_photo]
    for number, entry in enumerate(entries, start=1):
        stored = entry_photo(session, entry)
        if stored is None:  # kept by an older microamp on another host: its bytes are not here
            continue
        suffix = _PHOTO_SUFFIX.get(stored.media_type, "bin")
        name = f"photos/photo-{entry.id}-{entry.taken_on.isoformat()}.{suffix}"
        out.write(name, stored.data, compress=False)  # already compressed images
        out.contents.photos[entry.id] = name
        out.progress(f"photo {number} of {len(entries)}")


def _write_charts(session: Session, session_ids: list[int], out: _Writer) -> None:
    for number, session_id in enumerate(session_ids, start=1):
        rows = session_telemetry(session, session_id=session_id)
        if rows.shape[0] >= 2:
            name = f"charts/session-{session_id}.svg"
            out.write(name, session_chart_svg(rows, COLUMNS).encode("utf-8"))
            out.contents.charts[session_id] = name
        out.progress(f"session chart {number} of {len(session_ids)}")


def _steps(session: Session, client: Client, out: _Writer, now: datetime) -> Iterator[str]:
    """Write the archive part by part, naming each part as it is done."""
    bundle = client_bundle(session, client_id=client.id, now=now)
    out.write_json("fhir-bundle.json", bundle)
    del bundle
    yield "FHIR bundle"
    _write_consents(session, client, out)
    yield "consents"
    _write_photos(session, client.id, out)
    yield "photos"
    session_ids = _session_ids(session, client.id)
    out.contents.sessions = len(session_ids)
    _write_charts(session, session_ids, out)
    yield "session charts"
    record = person_record(session, client_id=client.id, contents=out.contents)
    record["exported_at"] = now.isoformat()
    out.write_json("record.json", record)
    yield "record"
    out.write("index.html", summary_html(record, out.contents.files, out.contents.charts,
                                         out.contents.consents).encode("utf-8"))  # fmt: skip
    yield "summary page"


def write_person_archive(
    session: Session,
    *,
    client_id: int,
    out: IO[bytes],
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ArchiveContents:
    """Write the client's full export as a ZIP archive into ``out``; ``progress`` hears each
    part as it is written. `NotFound` for no such client (before a byte is written)."""
    client = get_client(session, client_id=client_id)
    moment = now or datetime.now().astimezone()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive, progress or (lambda _part: None))
        for part in _steps(session, client, writer, moment):
            writer.progress(f"{part} written")
    return writer.contents
