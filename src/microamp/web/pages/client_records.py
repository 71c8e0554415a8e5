"""Keeping a client record up to date: the edit page (contact for every role, health fields for
clinical ones), archive and unarchive, merging a duplicate (clinical roles, confirmed), the
skin analysis form of the client page, and the owner's treatment-note templates.

A bad value sends the form back (422) with what was typed and the error beside the field;
every write is audited in the transaction that makes it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic.plans import WEEKDAYS
from microamp.errors import Conflict, InvalidValue
from microamp.store.access import append_audit
from microamp.store.client_records import (
    archive_client,
    merge_clients,
    possible_duplicates,
    search_clients,
    unarchive_client,
    update_client,
)
from microamp.store.crud import get_client
from microamp.store.models import User
from microamp.store.skin import (
    delete_note_template,
    list_note_templates,
    record_skin_analysis,
    save_note_template,
)
from microamp.store.visit_steps import link_skin_analysis
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, RowIdQuery, audit
from microamp.web.errors import field_errors
from microamp.web.pages.client_forms import refusing
from microamp.web.pages.clients import parse_day
from microamp.web.pages.visit_steps import safe_back
from microamp.web.render import page
from microamp.web.roles import CLINICAL

router = APIRouter(dependencies=[CsrfChecked])

_EDIT_LABELS = {
    "full_name": "Full name",
    "date_of_birth": "Date of birth",
    "email": "Email",
    "phone": "Phone",
    "fitzpatrick_type": "Skin type",
    "concerns": "Concerns",
    "preferred_weekdays": "Preferred weekdays",
    "allergies": "Allergies",
    "medications": "Medications",
    "notes": "Notes",
}
_EDIT_TARGETS = {"preferred_weekdays": "weekday-mon", "fitzpatrick_type": "skin_type"}
_MERGE_LABELS = {"duplicate_id": "Duplicate", "confirm": "Confirmation"}
_TEMPLATE_LABELS = {"name": "Name", "body": "Text"}
_ROMAN = ("I", "II", "III", "IV", "V", "VI")


def _edit_page(
    request: Request, user: User, db: Session, client_id: int, *, status_code: int = 200,
    form: dict[str, Any] | None = None, errors: list[Any] | None = None,
) -> Response:  # fmt: skip
    client = get_client(db, client_id=client_id)
    if form is None:
        form = {
            "full_name": client.full_name,
            "date_of_birth": client.date_of_birth.isoformat(),
            "email": client.email or "",
            "phone": client.phone or "",
            "weekdays": list(client.preferred_weekdays),
        }
        if user.role in CLINICAL:
            form |= {
                "skin_type": _ROMAN[client.fitzpatrick_type - 1] if client.fitzpatrick_type else "",
                "concerns": ", ".join(client.concerns),
                "allergies": client.allergies,
                "medications": client.medications,
                "notes": client.notes,
            }  # fmt: skip
            audit(db, user, "read", f"client:{client.id}", client_id=client.id, view="edit page")
    return page(request, "client_edit.html", user, status_code=status_code,
                title=f"Edit: {client.full_name}", client=client, form=form,
                errors=errors or [], weekdays=WEEKDAYS)  # fmt: skip


@router.get("/clients/{client_id}/edit")
def edit_page(request: Request, user: PageUser, db: DbDep, client_id: RowId) -> Response:
    return _edit_page(request, user, db, client_id)


@router.post("/clients/{client_id}/edit")
def edit_client(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    full_name: Annotated[str, Form(max_length=400)] = "",
    date_of_birth: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    phone: Annotated[str, Form(max_length=100)] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
    skin_type: Annotated[str, Form(max_length=10)] = "",
    concerns: Annotated[str, Form(max_length=1000)] = "",
    allergies: Annotated[str, Form(max_length=8000)] = "",
    medications: Annotated[str, Form(max_length=8000)] = "",
    notes: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    typed: dict[str, Any] = {"full_name": full_name, "date_of_birth": date_of_birth,
                             "email": email, "phone": phone, "weekdays": weekdays or []}  # fmt: skip
    if user.role in CLINICAL:
        typed |= {"skin_type": skin_type, "concerns": concerns, "allergies": allergies,
                  "medications": medications, "notes": notes}  # fmt: skip
    try:
        changes: dict[str, Any] = {
            "full_name": full_name,
            "date_of_birth": parse_day("date_of_birth", date_of_birth),
            "email": email,
            "phone": phone,
            "preferred_weekdays": weekdays or [],
        }
        if user.role in CLINICAL:
            changes |= {
                "fitzpatrick_type": skin_type,
                "concerns": [c for c in concerns.split(",") if c.strip()],
                "allergies": allergies,
                "medications": medications,
                "notes": notes,
            }
        _, changed = update_client(db, client_id=client_id, changes=changes, today=date.today())
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, _EDIT_LABELS, _EDIT_TARGETS)
        return _edit_page(request, user, db, client_id, status_code=422, form=typed,
                          errors=errors)  # fmt: skip
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change="edited",
          fields=",".join(changed))  # fmt: skip
    return RedirectResponse(f"/clients/{client_id}", status_code=303)


@router.post("/clients/{client_id}/archive")
def archive(
    user: PageUser, db: DbDep, client_id: RowId, archived: Annotated[str, Form()] = "1"
) -> Response:
    if archived == "0":
        unarchive_client(db, client_id=client_id)
    else:
        archive_client(db, client_id=client_id)
    change = "unarchived" if archived == "0" else "archived"
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change=change)
    return RedirectResponse(f"/clients/{client_id}", status_code=303)


def _merge_page(
    request: Request, user: User, db: Session, client_id: int, *, q: str = "",
    status_code: int = 200, errors: list[Any] | None = None, chosen: int | None = None,
) -> Response:  # fmt: skip
    client = get_client(db, client_id=client_id)
    likely = possible_duplicates(db, full_name=client.full_name,
                                 date_of_birth=client.date_of_birth, email=client.email,
                                 phone=client.phone, exclude_id=client.id)  # fmt: skip
    found = [c for c in search_clients(db, q=q, include_archived=True, limit=50)
             if c.id != client.id and c.merged_into_id is None] if q.strip() else []  # fmt: skip
    candidates = {c.id: c for c in [*likely, *found]}
    if chosen is not None and chosen not in candidates:
        chosen_client = db.get(type(client), chosen)
        if chosen_client is not None:
            candidates[chosen] = chosen_client
    return page(request, "client_merge.html", user, status_code=status_code,
                title=f"Merge a duplicate into {client.full_name}", client=client, q=q,
                candidates=list(candidates.values()), likely={c.id for c in likely},
                errors=errors or [], chosen=chosen)  # fmt: skip


@router.get("/clients/{client_id}/merge")
def merge_page(
    request: Request, user: PageUser, db: DbDep, client_id: RowId, q: str = ""
) -> Response:
    return _merge_page(request, user, db, client_id, q=q[:200])


@router.post("/clients/{client_id}/merge")
def merge(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    duplicate_id: Annotated[str, Form(max_length=20)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        if not duplicate_id.strip().isdigit():
            raise InvalidValue("duplicate_id", duplicate_id, "choose the client to merge in")
        duplicate = int(duplicate_id)
        if confirm != "yes":
            raise InvalidValue("confirm", confirm, "tick the box: a merge cannot be undone")
        moved = merge_clients(db, keep_id=client_id, duplicate_id=duplicate)
    except (InvalidValue, Conflict) as exc:
        db.rollback()
        chosen = int(duplicate_id) if duplicate_id.strip().isdigit() else None
        # two visits at once: the reason goes beside the client chosen, as a refused value would
        refused = (
            exc
            if isinstance(exc, InvalidValue)
            else InvalidValue("duplicate_id", duplicate_id, exc.reason)
        )
        return _merge_page(request, user, db, client_id, chosen=chosen,
                           status_code=422 if isinstance(exc, InvalidValue) else 409,
                           errors=field_errors(refused, _MERGE_LABELS, {"duplicate_id": "candidates"}))  # fmt: skip
    append_audit(db, actor_id=user.id, actor=user.email, action="write",
                 resource=f"client:{duplicate}", client_id=duplicate,
                 detail={"change": "merged away", "kept_id": client_id})  # fmt: skip
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change="merged",
          duplicate_id=duplicate,
          moved=",".join(f"{t}={n}" for t, n in sorted(moved.items())))  # fmt: skip
    return RedirectResponse(f"/clients/{client_id}?merged={duplicate}", status_code=303)


@router.post("/clients/{client_id}/skin")
def add_skin_analysis(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    assessed_on: Annotated[str, Form(max_length=40)] = "",
    skin_kind: Annotated[str, Form(max_length=40)] = "",
    fitzpatrick: Annotated[str, Form(max_length=10)] = "",
    laxity_grade: Annotated[str, Form(max_length=10)] = "",
    skin_concerns: Annotated[str, Form(max_length=1000)] = "",
    skin_notes: Annotated[str, Form(max_length=8000)] = "",
    appointment_id: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A new skin analysis version; taken at a visit (``appointment_id``), it is linked to the
    visit's skin-analysis step and the console (``back``) opens again."""
    typed = {"assessed_on": assessed_on, "skin_kind": skin_kind, "fitzpatrick": fitzpatrick,
             "laxity_grade": laxity_grade, "skin_concerns": skin_concerns,
             "skin_notes": skin_notes, "appointment_id": appointment_id, "back": back}  # fmt: skip
    today = date.today()
    try:
        row = record_skin_analysis(
            db,
            client_id=client_id,
            assessed_on=parse_day("assessed_on", assessed_on) if assessed_on.strip() else today,
            today=today,
            skin_type=skin_kind,
            fitzpatrick_type=fitzpatrick,
            laxity_grade=laxity_grade,
            concerns=skin_concerns.split(","),
            notes=skin_notes,
            recorded_by_id=user.id,
        )
        visit = _visit_id(appointment_id)
        if visit is not None:
            link_skin_analysis(db, appointment_id=visit, analysis=row)
    except InvalidValue as exc:
        return refusing(request, user, db, client_id, "skin", exc, typed)
    audit(db, user, "write", f"client:{client_id}/skin", client_id=client_id,
          version=row.version, appointment_id=_visit_id(appointment_id))  # fmt: skip
    there = safe_back(back)
    if there and _visit_id(appointment_id) is not None:
        return RedirectResponse(f"{there}#checklist-title", status_code=303)
    return RedirectResponse(f"/clients/{client_id}#skin-title", status_code=303)


def _visit_id(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise InvalidValue("appointment_id", raw, "a visit of this client")
    return int(text)


def _templates_page(
    request: Request, user: User, db: Session, *, status_code: int = 200,
    errors: list[Any] | None = None, typed: dict[str, Any] | None = None,
    editing: int | None = None,
) -> Response:  # fmt: skip
    return page(request, "note_templates.html", user, status_code=status_code,
                title="Note templates", templates=list_note_templates(db),
                errors=errors or [], typed=typed or {}, editing=editing)  # fmt: skip


@router.get("/note-templates")
def note_templates(
    request: Request, user: PageUser, db: DbDep, edit: RowIdQuery = None
) -> Response:
    return _templates_page(request, user, db, editing=edit)


@router.post("/note-templates")
def save_template(
    request: Request,
    user: PageUser,
    db: DbDep,
    name: Annotated[str, Form(max_length=400)] = "",
    body: Annotated[str, Form(max_length=8000)] = "",
    template_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    editing = int(template_id) if template_id.isdigit() else None
    try:
        template = save_note_template(db, name=name, body=body, template_id=editing,
                                      created_by_id=user.id)  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        return _templates_page(request, user, db, status_code=422, editing=editing,
                               errors=field_errors(exc, _TEMPLATE_LABELS),
                               typed={"name": name, "body": body})  # fmt: skip
    audit(db, user, "write", f"note_template:{template.id}", change="saved")
    return RedirectResponse("/note-templates", status_code=303)


@router.post("/note-templates/{template_id}/delete")
def remove_template(user: PageUser, db: DbDep, template_id: RowId) -> Response:
    delete_note_template(db, template_id=template_id)
    audit(db, user, "write", f"note_template:{template_id}", change="deleted")
    return RedirectResponse("/note-templates", status_code=303)
