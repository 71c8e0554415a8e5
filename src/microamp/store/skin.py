"""Skin analyses kept over time (each a new version, dated, by whom), and the owner's
treatment-note templates. The caller audits and commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microamp.clinic.dates import not_in_future
from microamp.errors import InvalidValue
from microamp.store.client_models import LAXITY_GRADES, SKIN_TYPES, NoteTemplate, SkinAnalysis
from microamp.store.crud import clean_text, get_client, get_or_404, parse_fitzpatrick

__all__ = [
    "delete_note_template",
    "list_note_templates",
    "record_skin_analysis",
    "save_note_template",
    "skin_analyses",
]


def _laxity(value: int | str) -> int:
    text = str(value).strip().lower()
    if text in LAXITY_GRADES:
        return LAXITY_GRADES.index(text)
    if text.isdigit() and 0 <= int(text) < len(LAXITY_GRADES):
        return int(text)
    raise InvalidValue("laxity_grade", value, "a grade 0-4 (none, mild, moderate, marked, severe)")


def record_skin_analysis(
    session: Session,
    *,
    client_id: int,
    assessed_on: date,
    today: date,
    skin_type: str,
    fitzpatrick_type: int | str,
    laxity_grade: int | str,
    concerns: Iterable[str] = (),
    notes: str = "",
    recorded_by_id: int | None = None,
) -> SkinAnalysis:
    """The client's next skin analysis (earlier versions are kept as they were). The client's
    skin type and concerns become the ones found. Assessed after ``today`` is refused."""
    not_in_future("assessed_on", assessed_on, today=today)
    client = get_client(session, client_id=client_id)
    kind = skin_type.strip().lower()
    if kind not in SKIN_TYPES:
        raise InvalidValue("skin_type", skin_type, f"one of {', '.join(SKIN_TYPES)}")
    try:
        fitzpatrick = parse_fitzpatrick(fitzpatrick_type)
    except InvalidValue:
        fitzpatrick = None
    if fitzpatrick is None:
        raise InvalidValue("fitzpatrick_type", fitzpatrick_type, "Fitzpatrick type I-VI")
    found = [clean_text("concerns", c, max_length=100) for c in concerns if c.strip()]
    if len(notes) > 4000:
        raise InvalidValue("notes", f"{len(notes)} characters", "at most 4000 characters")
    last = session.scalar(
        select(func.max(SkinAnalysis.version)).where(SkinAnalysis.client_id == client.id)
    )
    analysis = SkinAnalysis(
        client_id=client.id,
        version=(last or 0) + 1,
        assessed_on=assessed_on,
        skin_type=kind,
        fitzpatrick_type=fitzpatrick,
        concerns=found,
        laxity_grade=_laxity(laxity_grade),
        notes=notes.strip(),
        recorded_by_id=recorded_by_id,
    )
    session.add(analysis)
    client.fitzpatrick_type = fitzpatrick
    client.concerns = found or client.concerns
    session.flush()
    return analysis


def skin_analyses(session: Session, *, client_id: int) -> list[SkinAnalysis]:
    """The client's skin analyses, the latest first."""
    return list(
        session.scalars(
            select(SkinAnalysis)
            .where(SkinAnalysis.client_id == client_id)
            .order_by(SkinAnalysis.assessed_on.desc(), SkinAnalysis.version.desc())
        )
    )


def list_note_templates(session: Session) -> list[NoteTemplate]:
    """Every treatment-note template, by name."""
    return list(session.scalars(select(NoteTemplate).order_by(NoteTemplate.name)))


def save_note_template(
    session: Session,
    *,
    name: str,
    body: str,
    template_id: int | None = None,
    created_by_id: int | None = None,
) -> NoteTemplate:
    """A new template, or (``template_id``) that template changed. Names are unique."""
    cleaned = clean_text("name", name, max_length=100)
    text = body.strip()
    if not text or len(text) > 4000:
        raise InvalidValue("body", f"{len(text)} characters", "must be 1-4000 characters")
    clash = session.scalar(select(NoteTemplate.id).where(NoteTemplate.name == cleaned))
    if clash is not None and clash != template_id:
        raise InvalidValue("name", name, "another template has this name")
    if template_id is None:
        template = NoteTemplate(name=cleaned, body=text, created_by_id=created_by_id)
        session.add(template)
    else:
        template = get_or_404(session, NoteTemplate, template_id)
        template.name, template.body = cleaned, text
    session.flush()
    return template


def delete_note_template(session: Session, *, template_id: int) -> None:
    """Remove a template (notes written from it keep their text)."""
    session.delete(get_or_404(session, NoteTemplate, template_id))
    session.flush()
