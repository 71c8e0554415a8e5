"""Health data of a client: intake and screening, consent, clearance, safety flags, course
plans, progress.

Every read and write here is audited, in the same transaction as the write. "Screen again"
starts from the previous answers; a safety flag is lifted only by a recorded decision.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic import plans as clinic_plans
from microamp.clinic.ics import plan_to_ics
from microamp.clinic.intake import BOOLEAN_KEYS, DATE_OR_NULL_KEYS, ZONE_LIST_KEYS
from microamp.clinic.pricing import parse_money
from microamp.errors import InvalidValue, InvalidValues, NotFound
from microamp.safety.limits import ZONES
from microamp.store.book_setup import plan_closures, plan_weekdays
from microamp.store.crud import (
    get_client,
    latest_form,
    record_clearance,
    record_consent,
    record_intake,
)
from microamp.store.flags import lift_flags
from microamp.store.models import CoursePlan, ProgressEntry
from microamp.store.photo_blobs import entry_photo
from microamp.store.planning import get_plan, save_plan
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import FieldError, field_errors
from microamp.web.pages.client_forms import RATINGS, refusing
from microamp.web.pages.questions import QUESTIONS
from microamp.web.render import page
from microamp.web.uploads import read_photo, save_progress

router = APIRouter(dependencies=[CsrfChecked])


def _day(field: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidValue(field, raw, "a date as YYYY-MM-DD") from None


def _back(client_id: int, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/clients/{client_id}#{anchor}", status_code=303)


def _ratings(typed: dict[str, str]) -> dict[str, int]:
    """The ratings given, each a whole number (the store checks the range); every one that is
    not is named, so the form can mark them all."""
    ratings, wrong = {}, []
    for name in RATINGS:
        raw = typed[f"rating_{name}"].strip()
        if raw.isdigit():
            ratings[name] = int(raw)
        elif raw:
            wrong.append(InvalidValue(f"rating_{name}", raw, "a whole number 0-10"))
    if wrong:
        raise wrong[0] if len(wrong) == 1 else InvalidValues(wrong)
    return ratings


def _intake_page(
    request: Request, user: PageUser, db: Session, client_id: int, **extra: Any
) -> Response:
    client = get_client(db, client_id=client_id)
    return page(
        request,
        "intake.html",
        user,
        title=f"Intake: {client.full_name}",
        client=client,
        questions=QUESTIONS,
        booleans=BOOLEAN_KEYS,
        zone_keys=ZONE_LIST_KEYS,
        date_keys=DATE_OR_NULL_KEYS,
        zones=ZONES,
        today=date.today(),
        **extra,
    )


def intake_errors(exc: InvalidValue, answers: dict[str, object]) -> list[FieldError]:
    """The form's errors: the one found, and every other question left unanswered, each
    linked to its first choice."""
    unanswered = [
        InvalidValue(key, None, "answer yes or no")
        for key in BOOLEAN_KEYS
        if answers.get(key) is None and key != exc.field
    ]
    # a zone list's error names its item (metal_in_face_zones[2]): shown by the list's fieldset
    given = [
        InvalidValue(e.field.split("[")[0], e.value, e.rule) for e in getattr(exc, "errors", [exc])
    ]
    found = [*given, *unanswered]
    order = {key: i for i, key in enumerate(("date_of_birth", *BOOLEAN_KEYS))}
    found.sort(key=lambda e: order.get(e.field, len(order)))
    targets = {key: f"{key}-yes" for key in BOOLEAN_KEYS} | {k: f"q-{k}" for k in ZONE_LIST_KEYS}
    labels = {"date_of_birth": "Date of birth", **QUESTIONS}
    return field_errors(InvalidValues(found), labels, targets)


@router.get("/clients/{client_id}/intake")
def intake_form(request: Request, user: PageUser, db: DbDep, client_id: RowId) -> Response:
    """A blank form for a first intake; to screen again, the previous answers to change."""
    previous = latest_form(db, client_id=client_id)
    answers = dict(previous.answers) if previous else {}
    audit(db, user, "read", f"client:{client_id}/intake", client_id=client_id,
          intake_id=previous.id if previous else None)  # fmt: skip
    return _intake_page(request, user, db, client_id, answers=answers, previous=previous)


@router.post("/clients/{client_id}/intake")
async def intake_submit(request: Request, user: PageUser, db: DbDep, client_id: RowId) -> Response:
    form = await request.form()
    answers: dict[str, object] = {"date_of_birth": str(form.get("date_of_birth", ""))}
    for key in BOOLEAN_KEYS:
        raw = form.get(key)
        answers[key] = {"yes": True, "no": False}.get(str(raw)) if raw is not None else None
    for key in ZONE_LIST_KEYS:
        answers[key] = [str(z) for z in form.getlist(key)]
    for key in DATE_OR_NULL_KEYS:
        answers[key] = str(form.get(key) or "").strip() or None
    today = date.today()
    try:
        intake = record_intake(
            db, client_id=client_id, answers=answers, on=today, today=today,
            recorded_by_id=user.id,
        )  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        return _intake_page(
            request, user, db, client_id, answers=answers, errors=intake_errors(exc, answers),
            previous=latest_form(db, client_id=client_id), status_code=422,
        )  # fmt: skip
    audit(
        db,
        user,
        "write",
        f"client:{client_id}/intake",
        client_id=client_id,
        intake_id=intake.id,
        outcome=intake.outcome,
    )
    return _back(client_id, "screening")


@router.post("/clients/{client_id}/consent")
def consent(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    typed_signature: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        row = record_consent(
            db, client_id=client_id, typed_signature=typed_signature, witnessed_by_id=user.id
        )
    except InvalidValue as exc:
        typed = {"typed_signature": typed_signature}
        return refusing(request, user, db, client_id, "consent", exc, typed)
    audit(
        db,
        user,
        "write",
        f"client:{client_id}/consent",
        client_id=client_id,
        version=row.text_version,
    )
    return _back(client_id, "consent-title")


@router.post("/clients/{client_id}/clearance")
def clearance(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    physician_name: Annotated[str, Form(max_length=200)] = "",
    issued_on: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "",
    rule_ids: Annotated[list[str] | None, Form()] = None,
    document_ref: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        row = record_clearance(
            db,
            client_id=client_id,
            physician_name=physician_name,
            issued_on=_day("issued_on", issued_on),
            today=date.today(),
            valid_until=_day("valid_until", valid_until) if valid_until.strip() else None,
            rule_ids=rule_ids or [],
            document_ref=document_ref,
            recorded_by_id=user.id,
        )
    except InvalidValue as exc:
        typed = {"physician_name": physician_name, "issued_on": issued_on,
                 "valid_until": valid_until, "document_ref": document_ref,
                 "rule_ids": rule_ids or []}  # fmt: skip
        return refusing(request, user, db, client_id, "clearance", exc, typed)
    audit(
        db, user, "write", f"client:{client_id}/clearance", client_id=client_id, clearance_id=row.id
    )
    return _back(client_id, "clearance-title")


@router.post("/clients/{client_id}/flags/lift")
def lift_flag(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    rule_id: Annotated[str, Form(max_length=80)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A practitioner's or owner's decision that a flag no longer holds, with the reason."""
    get_client(db, client_id=client_id)
    try:
        lifted = lift_flags(db, client_id=client_id, rule_id=rule_id, reason=reason, by=user,
                            actor=user.email)  # fmt: skip
    except InvalidValue as exc:
        typed = {"rule_id": rule_id, "reason": reason}
        return refusing(request, user, db, client_id, "lift", exc, typed)
    for flag in lifted:
        audit(db, user, "write", f"client:{client_id}/safety-flag", client_id=client_id,
              flag_id=flag.id, rule=flag.rule_id, change="lifted")  # fmt: skip
    return _back(client_id, "history-title")


def _months(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidValue("months", raw, f"a whole number, 1-{clinic_plans.MAX_MONTHS}") from None


@router.post("/clients/{client_id}/plans")
def create_plan(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    template: Annotated[str, Form(max_length=80)] = "",
    start: Annotated[str, Form()] = "",
    months: Annotated[str, Form(max_length=20)] = "6",
    protocol_name: Annotated[str, Form(max_length=200)] = "",
    price: Annotated[str, Form(max_length=20)] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        first = _day("start", start)
        plan = clinic_plans.plan_course(
            template,
            start=first,
            weekdays=plan_weekdays(db, client_id=client_id, chosen=weekdays or ()),
            months=_months(months),
            closures=plan_closures(db, from_day=first),
        )
        per_session = parse_money(price) if price.strip() else None
        row = save_plan(
            db,
            client_id=client_id,
            plan=plan,
            protocol_name=protocol_name or None,
            price_per_session=per_session,
            estimated_cost=per_session * len(plan.sessions) if per_session is not None else None,
            created_by_id=user.id,
        )
    except InvalidValue as exc:
        typed = {"template": template, "start": start, "months": months,
                 "protocol_name": protocol_name, "price": price, "weekdays": weekdays or []}  # fmt: skip
        return refusing(request, user, db, client_id, "plan", exc, typed)
    audit(db, user, "write", f"client:{client_id}/plan", client_id=client_id, plan_id=row.id)
    return _back(client_id, "plan-title")


def stored_plan(row: CoursePlan) -> clinic_plans.CoursePlan:
    """The clinic's view of a stored plan (for the calendar file)."""
    return clinic_plans.CoursePlan(
        template=row.template,
        start=row.start_date,
        end=clinic_plans.add_months(row.start_date, row.months),
        weekdays=clinic_plans.parse_weekdays(",".join(row.weekdays)) if row.weekdays else (),
        months=row.months,
        sessions=tuple(
            clinic_plans.PlannedSession(a.number, a.on_date, a.phase, a.checkin)  # type: ignore[arg-type]
            for a in row.appointments
        ),
    )


@router.get("/clients/{client_id}/plans/{plan_id}.ics")
def plan_ics(user: PageUser, db: DbDep, client_id: RowId, plan_id: RowId) -> Response:
    row = get_plan(db, plan_id=plan_id)
    if row.client_id != client_id:
        raise NotFound(f"no plan {plan_id} for client {client_id}")
    client = get_client(db, client_id=client_id)
    body = plan_to_ics(stored_plan(row), stamp=datetime.now(UTC), client_name=client.full_name)
    audit(db, user, "read", f"client:{client_id}/plan", client_id=client_id, plan_id=plan_id)
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.ics"'},
    )


@router.post("/clients/{client_id}/progress")
async def add_progress(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    taken_on: Annotated[str, Form()],
    notes: Annotated[str, Form(max_length=2000)] = "",
    photo: UploadFile | None = None,
) -> Response:
    form = await request.form()
    typed = {"taken_on": taken_on, "notes": notes} | {
        f"rating_{name}": str(form.get(f"rating_{name}") or "") for name in RATINGS
    }
    try:
        save_progress(
            db,
            user,
            client_id=client_id,
            taken_on=_day("taken_on", taken_on),
            photo=await read_photo(photo),
            ratings=_ratings(typed),
            notes=notes,
        )
    except InvalidValue as exc:
        return refusing(request, user, db, client_id, "progress", exc, typed)
    return _back(client_id, "progress-title")


@router.get("/clients/{client_id}/progress/{entry_id}/photo")
def progress_photo(user: PageUser, db: DbDep, client_id: RowId, entry_id: RowId) -> Response:
    entry = db.get(ProgressEntry, entry_id)
    stored = entry_photo(db, entry) if entry is not None and entry.client_id == client_id else None
    if stored is None:
        raise NotFound(f"no photo {entry_id} for client {client_id}")
    audit(db, user, "read", f"client:{client_id}/photo", client_id=client_id, entry_id=entry_id)
    return Response(
        stored.data, media_type=stored.media_type, headers={"Cache-Control": "private, no-store"}
    )


__all__ = ["QUESTIONS", "router", "stored_plan"]
