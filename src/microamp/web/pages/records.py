"""A session record: dose by zone, charts from stored telemetry, events, notes, feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book_setup import get_settings
from microamp.store.crud import get_client
from microamp.store.models import User
from microamp.store.records import (
    controls_of,
    delivered_of,
    get_session_record,
    level_in_force,
    session_telemetry,
    set_feedback,
)
from microamp.store.skin import list_note_templates
from microamp.store.telemetry import COLUMNS
from microamp.store.visit_steps import record_step_views
from microamp.viz.series_chart import session_chart_svg
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import field_errors
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])
_FEEDBACK_LABELS = {"comfort": "Comfort", "notes": "Notes"}


@router.get("/records/{record_id}")
def record(request: Request, user: PageUser, db: DbDep, record_id: RowId) -> Response:
    return _record_page(request, user, db, record_id)


def _record_page(
    request: Request, user: User, db: Session, record_id: int, **extra: Any
) -> Response:
    row = get_session_record(db, session_id=record_id)
    client = get_client(db, client_id=row.client_id) if row.client_id else None
    practitioner = db.get(User, row.practitioner_id) if row.practitioner_id else None
    dose = sorted(row.dose_by_zone.values(), key=lambda d: -(d.get("charge_uc") or 0))
    top = max((d.get("charge_uc") or 0 for d in dose), default=0) or 1
    rows = session_telemetry(db, session_id=record_id)
    chart = session_chart_svg(rows, COLUMNS)
    audit(db, user, "read", f"record:{record_id}", client_id=row.client_id)
    return page(
        request,
        "record.html",
        user,
        title=f"Session record {record_id}",
        record=row,
        client=client,
        practitioner=practitioner,
        dose=dose,
        dose_top=top,
        total_charge=sum(d.get("charge_uc") or 0 for d in dose),
        total_stim=sum(d.get("stimulation_s") or 0 for d in dose),
        chart=chart,
        delivered=delivered_of(rows),
        controls=controls_of(row.events),
        level=level_in_force(row.events),
        started=next((e.data for e in row.events if e.kind == "started"), {}),
        note_templates=list_note_templates(db),
        service_steps=record_step_views(db, record_id=record_id),
        zone=clinic_zone(get_settings(db).time_zone),
        **extra,
    )


def _comfort(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidValue("comfort", raw, "must be a whole number 0-10") from None


@router.post("/records/{record_id}/feedback")
def feedback(
    request: Request,
    user: PageUser,
    db: DbDep,
    record_id: RowId,
    comfort: Annotated[str, Form(max_length=20)] = "",
    tingling: Annotated[bool, Form()] = False,
    metallic_taste: Annotated[bool, Form()] = False,
    redness: Annotated[bool, Form()] = False,
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        row = set_feedback(
            db,
            session_id=record_id,
            comfort=_comfort(comfort),
            tingling=tingling,
            metallic_taste=metallic_taste,
            redness=redness,
            notes=notes,
        )
    except InvalidValue as exc:
        db.rollback()
        typed = {"comfort": comfort, "tingling": tingling, "metallic_taste": metallic_taste,
                 "redness": redness, "notes": notes}  # fmt: skip
        errors = field_errors(exc, _FEEDBACK_LABELS)
        return _record_page(request, user, db, record_id, errors=errors, typed=typed,
                            status_code=422)  # fmt: skip
    audit(db, user, "write", f"record:{record_id}/feedback", client_id=row.client_id)
    return RedirectResponse(f"/records/{record_id}#feedback-title", status_code=303)
