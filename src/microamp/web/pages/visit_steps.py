"""The whole facial service in the console: the visit's checklist of manual steps around the
microcurrent step, shown on the console and the live page, and its timer controls.

A control posted by the checklist's script gets its step back as a fragment (the script swaps
it in); a plain form post goes back to the page it came from. State lives in the store, so a
reload or any web worker shows the same timers. Every read and write is audited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import Conflict, InvalidValue
from microamp.store.base import utc_now
from microamp.store.book import get_appointment
from microamp.store.book_setup import get_settings
from microamp.store.models import User
from microamp.store.visit_steps import StepView, act_on_step, step_views
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import FieldError
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

# where a plain form post may go back to: the console of the visit, or a live session page
_BACK = re.compile(r"^/(console\?appointment_id=\d{1,12}|live/[A-Za-z0-9_-]{1,64})$")
_KIND_LABELS = {
    "consultation": "Consultation",
    "cleansing": "Cleansing",
    "skin_analysis": "Skin analysis",
    "steam_exfoliation": "Steam and exfoliation",
    "massage": "Massage",
    "microcurrent": "Microcurrent",
    "mask": "Mask",
    "serums": "Serums",
    "home_care_advice": "Home-care advice",
    "led": "LED light",
}


def safe_back(raw: str) -> str | None:
    """``raw`` if it is a console or live page of this site, else None (never elsewhere)."""
    return raw if _BACK.match(raw.strip()) else None


def checklist_context(
    db: Session, user: User, appointment_id: int, *, back: str
) -> dict[str, Any] | None:
    """The checklist a console or live page shows for its visit (None: the service has no
    manual steps). Its read is audited, and the copy of the service's steps committed."""
    views = step_views(db, appointment_id=appointment_id)
    if not views:
        return None
    visit = get_appointment(db, appointment_id=appointment_id)
    audit(db, user, "read", f"client:{visit.client_id}/visit:{visit.id}/steps",
          client_id=visit.client_id)  # fmt: skip
    return _context(db, visit.id, visit.client_id, views, back)


def _context(
    db: Session, appointment_id: int, client_id: int, views: list[StepView], back: str
) -> dict[str, Any]:
    return {
        "appointment_id": appointment_id,
        "client_id": client_id,
        "steps": views,
        "zone": clinic_zone(get_settings(db).time_zone),
        "back": back,
        "now": utc_now(),
        "kind_labels": _KIND_LABELS,
    }


def _step_response(
    request: Request, db: Session, user: User, appointment_id: int, position: int,
    back: str, *, status_code: int = 200, errors: list[FieldError] | None = None,
    refused: str = "", typed: str | None = None,
) -> Response:  # fmt: skip
    """The one step again, as the fragment the script swaps in, or (a plain post) as a page
    holding its form, with the error beside the field and what was typed."""
    visit = get_appointment(db, appointment_id=appointment_id)
    views = step_views(db, appointment_id=visit.id)
    step = next(v for v in views if v.position == position)
    checklist = _context(db, visit.id, visit.client_id, views, back)
    fragment = bool(request.headers.get("x-checklist"))
    return page(request, "visit_step_fragment.html" if fragment else "visit_step_page.html",
                user, status_code=status_code, title="Visit step", checklist=checklist,
                step=step, step_errors=errors or [], refused=refused,
                typed_products=typed)  # fmt: skip


@router.get("/visits/{appointment_id}/steps/{number}")
def step_fragment(
    request: Request, user: PageUser, db: DbDep, appointment_id: RowId, number: RowId,
    back: str = "",
) -> Response:  # fmt: skip
    """Step ``number`` as it is now: the live page asks again for its microcurrent step when
    the session ends."""
    visit = get_appointment(db, appointment_id=appointment_id)
    if number > len(step_views(db, appointment_id=visit.id)):
        raise InvalidValue("step", number, "a step of this visit's checklist")
    audit(db, user, "read", f"client:{visit.client_id}/visit:{visit.id}/steps",
          client_id=visit.client_id, step=number)  # fmt: skip
    where = safe_back(back) or f"/console?appointment_id={visit.id}"
    return _step_response(request, db, user, visit.id, number - 1, where)


@router.post("/visits/{appointment_id}/steps/{number}")
def step_control(
    request: Request,
    user: PageUser,
    db: DbDep,
    appointment_id: RowId,
    number: RowId,
    action: Annotated[str, Form(max_length=20)] = "products",
    products: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Start, pause, finish, skip or reopen step ``number`` (1 first) of the visit, saving its
    products with it."""
    where = safe_back(back) or f"/console?appointment_id={appointment_id}"
    position = number - 1
    visit = get_appointment(db, appointment_id=appointment_id)
    try:
        step = act_on_step(db, appointment_id=visit.id, position=position, action=action,
                           products=products, operator_id=user.id,
                           operator=user.display_name)  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        if exc.field == "step":
            raise
        field = f"products-{number}" if exc.field == "products" else f"action-{number}"
        error = FieldError(field, field, f"{exc.field.capitalize()}: {exc.rule}")
        return _step_response(request, db, user, visit.id, position, where, status_code=422,
                              errors=[error], typed=products)  # fmt: skip
    except Conflict as exc:
        db.rollback()
        return _step_response(request, db, user, visit.id, position, where, status_code=409,
                              refused=exc.reason, typed=products)  # fmt: skip
    audit(db, user, "write", f"client:{visit.client_id}/visit:{visit.id}/steps",
          client_id=visit.client_id, step=step.name, control=action)  # fmt: skip
    if request.headers.get("x-checklist"):
        return _step_response(request, db, user, visit.id, position, where)
    return RedirectResponse(f"{where}#visit-step-{number}", status_code=303)


__all__ = ["checklist_context", "router", "safe_back"]
