"""Clients: search, add, and the client page (contact and schedule for everybody; screening,
consent, clearance, plans, records and progress for clinical staff, every view audited)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.clinic.consent import consent_text
from microamp.clinic.plans import TEMPLATES, WEEKDAYS
from microamp.errors import InvalidValue
from microamp.protocols.library import library_names
from microamp.store.base import utc_now
from microamp.store.book_setup import get_settings
from microamp.store.client_models import LAXITY_GRADES, SKIN_TYPES
from microamp.store.client_records import SEARCH_CHARS, possible_duplicates, search_page
from microamp.store.crud import create_client, gate_client, get_client, latest_form
from microamp.store.flags import LIFTING_ROLES
from microamp.store.history import client_history
from microamp.store.models import Appointment, Client, CoursePlan, Package, ProgressEntry, User
from microamp.store.package_models import PAYMENT_METHODS, Payment
from microamp.store.packages import balances
from microamp.store.planning import checkin_due
from microamp.store.records import list_session_records
from microamp.store.skin import skin_analyses
from microamp.web.calendar_view import months_of
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import FieldError, field_errors
from microamp.web.pages.previsit import previsit_context
from microamp.web.pages.questions import QUESTIONS
from microamp.web.pages.visit_steps import safe_back
from microamp.web.render import page
from microamp.web.roles import CLINICAL

router = APIRouter(dependencies=[CsrfChecked])

# the form's labels, which lead its error messages
_CLIENT_LABELS = {
    "full_name": "Full name",
    "date_of_birth": "Date of birth",
    "email": "Email",
    "phone": "Phone",
    "skin_type": "Skin type",
    "fitzpatrick_type": "Skin type",
    "concerns": "Concerns",
    "preferred_weekdays": "Preferred weekdays",
}


def _page_number(raw: str, field: str = "page") -> int:
    """A page number of the query string (``field``): a whole number from 1 (none is the
    first page)."""
    text = raw.strip()
    if not text:
        return 1
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise InvalidValue(field, raw[:20], "a whole number from 1")
    return int(text)


def _listing(
    db: Session, user: User, *, q: str = "", archived: bool = False, page_number: int = 1
) -> dict[str, Any]:
    """What the client list shows: one page of clients, the number found, and the query string
    of the search without its page (for the Previous and Next links)."""
    found = search_page(db, q=q, clinical=user.role in CLINICAL, include_archived=archived,
                        page=page_number)  # fmt: skip
    query = urlencode({k: v for k, v in (("q", q), ("archived", "1" if archived else "")) if v})
    return {"clients": found.clients, "listing": found, "q": q, "archived": archived,
            "search_query": query}  # fmt: skip


@router.get("/clients")
def clients(
    request: Request,
    user: PageUser,
    db: DbDep,
    q: str = "",
    archived: str = "",
    number: Annotated[str, Query(alias="page", max_length=20)] = "",
) -> Response:
    q = q[:SEARCH_CHARS]
    listing = _listing(db, user, q=q, archived=bool(archived), page_number=_page_number(number))
    found = listing["listing"]
    if user.role in CLINICAL and q.strip():
        # the allergies, medications and notes were searched
        audit(db, user, "read", "clients:search", view="client search", results=len(found.clients))
    name = "clients_table.html" if request.headers.get("hx-request") else "clients.html"
    status = 404 if found.past_end else 200
    return page(request, name, user, title="Clients", weekdays=WEEKDAYS, status_code=status,
                **listing)  # fmt: skip


@router.post("/clients")
def add_client(
    request: Request,
    user: PageUser,
    db: DbDep,
    full_name: Annotated[str, Form(max_length=200)],
    date_of_birth: Annotated[str, Form()],
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    skin_type: Annotated[str, Form()] = "",
    concerns: Annotated[str, Form(max_length=500)] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
    allow_duplicate: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    typed = dict(full_name=full_name, date_of_birth=date_of_birth, email=email, phone=phone,
                 skin_type=skin_type, concerns=concerns, weekdays=weekdays or [])  # fmt: skip
    try:
        born = parse_day("date_of_birth", date_of_birth)
        duplicates = (
            []
            if allow_duplicate
            else possible_duplicates(
                db, full_name=full_name, date_of_birth=born, email=email, phone=phone
            )
        )
        if duplicates:
            return page(request, "clients.html", user, status_code=409, title="Clients",
                        weekdays=WEEKDAYS, duplicates=duplicates, form=typed,
                        **_listing(db, user))  # fmt: skip
        client = create_client(
            db,
            full_name=full_name,
            date_of_birth=born,
            email=email,
            phone=phone,
            fitzpatrick_type=skin_type if user.role in CLINICAL else None,
            concerns=[c.strip() for c in concerns.split(",") if c.strip()],
            preferred_weekdays=weekdays or [],
            today=date.today(),
        )
    except InvalidValue as exc:
        db.rollback()
        return page(
            request,
            "clients.html",
            user,
            status_code=422,
            title="Clients",
            weekdays=WEEKDAYS,
            errors=field_errors(exc, _CLIENT_LABELS, {"preferred_weekdays": "weekday-mon"}),
            form=typed,
            **_listing(db, user),
        )
    audit(db, user, "write", f"client:{client.id}", client_id=client.id, change="created")
    return RedirectResponse(f"/clients/{client.id}", status_code=303)


def parse_day(field: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidValue(field, raw, "a date as YYYY-MM-DD") from None


def clinic_today(db: Session) -> date:
    """Today in the clinic's time zone."""
    return utc_now().astimezone(clinic_zone(get_settings(db).time_zone)).date()


def appointments_of(db: Session, client_id: int) -> list[Appointment]:
    return list(
        db.scalars(
            select(Appointment)
            .join(CoursePlan, Appointment.plan_id == CoursePlan.id)
            .where(CoursePlan.client_id == client_id)
            .order_by(Appointment.on_date)
        )
    )


@router.get("/clients/{client_id}")
def client_page(request: Request, user: PageUser, db: DbDep, client_id: RowId) -> Response:
    return _client_page(request, user, db, client_id)


def _client_page(
    request: Request, user: User, db: Session, client_id: int, **extra: Any
) -> Response:
    client = get_client(db, client_id=client_id)
    today = date.today()
    upcoming = [a for a in appointments_of(db, client.id) if a.on_date >= today][:8]
    context: dict[str, Any] = {"client": client, "today": today, "upcoming": upcoming}
    context |= previsit_context(request, db, client, user)
    merged = request.query_params.get("merged", "")
    context["merged"] = int(merged) if merged.isdigit() and len(merged) < 10 else None
    context["packages"] = balances(db, client_id=client.id, on=clinic_today(db))
    context["offered"] = list(
        db.scalars(select(Package).where(Package.price_minor.is_not(None)).order_by(Package.name))
    )
    context["payments"] = list(
        db.scalars(
            select(Payment)
            .where(Payment.client_id == client.id)
            .order_by(Payment.taken_at.desc(), Payment.id.desc())
            .limit(10)
        )
    )
    context["payment_methods"] = PAYMENT_METHODS
    if user.role in CLINICAL:
        raw = request.query_params.get("records", "")
        context |= health_context(db, client, today, _page_number(raw, field="records"))
        context["skin_visit"] = skin_visit(db, client.id, request.query_params)
        context["may_lift"] = user.role in LIFTING_ROLES
        audit(db, user, "read", f"client:{client.id}", client_id=client.id, view="client page")
    return page(request, "client.html", user, title=client.full_name, **context, **extra)


def client_page_refusing(
    request: Request,
    user: User,
    db: Session,
    client_id: int,
    form: str,
    errors: list[FieldError],
    typed: dict[str, Any],
) -> Response:
    """The client page again, status 422, with only ``form`` open and showing ``errors`` (its
    summary takes the focus, so the page opens at that form) and what was typed kept (nothing
    was written)."""
    return _client_page(
        request, user, db, client_id, failing=form, errors=errors, typed=typed, status_code=422
    )


def skin_visit(db: Session, client_id: int, query: Mapping[str, str]) -> dict[str, Any] | None:
    """The visit a skin analysis is taken at (``?visit=``, with the console to go ``back`` to):
    the form is dated to its day, and the new version is linked to its skin-analysis step."""
    raw = query.get("visit", "")
    visit = db.get(Appointment, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if visit is None or visit.client_id != client_id:
        return None
    return {"id": visit.id, "on": visit.on_date, "back": safe_back(query.get("back", "")) or ""}


RECORDS_PER_PAGE = 20


def records_context(db: Session, client_id: int, number: int) -> dict[str, Any]:
    """Page ``number`` (from 1) of the client's treatment records, the latest first, and
    whether older ones follow (one more is read to know)."""
    found = list_session_records(db, client_id=client_id, limit=RECORDS_PER_PAGE + 1,
                                 offset=(number - 1) * RECORDS_PER_PAGE)  # fmt: skip
    return {"records": found[:RECORDS_PER_PAGE], "records_page": number,
            "older_records": len(found) > RECORDS_PER_PAGE}  # fmt: skip


def health_context(
    db: Session, client: Client, today: date, records_page: int = 1
) -> dict[str, Any]:
    """Everything the clinical part of the client page shows (page ``records_page`` of the
    treatment records)."""
    form = latest_form(db, client_id=client.id, on=today)
    plans = list(
        db.scalars(
            select(CoursePlan)
            .where(CoursePlan.client_id == client.id)
            .order_by(CoursePlan.id.desc())
        )
    )
    plan = plans[0] if plans else None
    months, more = months_of(
        (
            (a.on_date, a.number or 0, a.phase or "", a.checkin)
            for a in plan.appointments
            if a.number is not None
        )
        if plan
        else (),
        today=today,
    )
    return {
        "intake": form,
        "gate": gate_client(db, client_id=client.id, on=today),
        "history": client_history(db, client_id=client.id),
        "questions": QUESTIONS,
        "consent": consent_text(),
        "plan": plan,
        "months": months,
        "more_months": more,
        **records_context(db, client.id, records_page),
        "progress": list(
            db.scalars(
                select(ProgressEntry)
                .where(ProgressEntry.client_id == client.id)
                .order_by(ProgressEntry.taken_on, ProgressEntry.id)
            )
        ),
        "checkin_due": checkin_due(db, client_id=client.id),
        "templates": TEMPLATES,
        "protocol_names": library_names(),
        "weekdays": WEEKDAYS,
        "users": {u.id: u.display_name for u in db.scalars(select(User))},
        "skin_analyses": skin_analyses(db, client_id=client.id),
        "skin_types": SKIN_TYPES,
        "laxity_grades": LAXITY_GRADES,
    }
