"""The client's confirm / cancel page of a reminder's link: no account, the link is the key
(`microamp.store.reminders`). A cancellation is kept with the reason "by the client"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.access import append_audit
from microamp.store.book_models import Room, Service
from microamp.store.book_setup import get_settings
from microamp.store.models import Appointment
from microamp.store.previsit import LinkRefused
from microamp.store.reminders import answer_visit, open_visit
from microamp.web.deps import CsrfChecked, DbDep
from microamp.web.pages.previsit import link_key
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

_DONE = {
    "confirm": "Your visit is confirmed. See you then.",
    "cancel": "Your visit is cancelled. Call the clinic to book another time.",
}


def _visit_page(request: Request, db: Session, appointment: Appointment, **extra: Any) -> Response:
    settings = get_settings(db)
    zone = clinic_zone(settings.time_zone)
    assert appointment.starts_at is not None
    service = db.get(Service, appointment.service_id) if appointment.service_id else None
    room = db.get(Room, appointment.room_id) if appointment.room_id else None
    return page(request, "visit.html", None, title="Your visit", clinic_name=settings.name,
                when=appointment.starts_at.astimezone(zone).strftime("%A %d %B %Y at %H:%M"),
                service=service.name if service else "Your visit",
                room=room.name if room else "", state=appointment.state,
                action=request.url.path, **extra)  # fmt: skip


def _refused(request: Request, refusal: LinkRefused | InvalidValue) -> Response:
    reason = refusal.reason if isinstance(refusal, LinkRefused) else (
        "This visit can no longer be changed here: call the clinic.")  # fmt: skip
    return page(request, "previsit_done.html", None, title="Your visit",
                heading="This link cannot be used", message=reason, status_code=404)  # fmt: skip


@router.get("/visit/{token}")
def visit(request: Request, db: DbDep, token: str) -> Response:
    try:
        appointment = open_visit(db, link_key(request), token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    return _visit_page(request, db, appointment)


def _answer(request: Request, db: Session, token: str, action: str) -> Response:
    try:
        appointment = open_visit(db, link_key(request), token)
        answer_visit(db, appointment, action)
    except (LinkRefused, InvalidValue) as refusal:
        db.rollback()
        return _refused(request, refusal)
    detail: dict[str, object] = {"state": appointment.state}
    if action == "cancel":
        detail["reason"] = "by the client"
    append_audit(db, actor_id=None, actor=f"client (reminder link, appointment {appointment.id})",
                 action="write", resource=f"appointment:{appointment.id}",
                 client_id=appointment.client_id, detail=detail)  # fmt: skip
    db.commit()
    return _visit_page(request, db, appointment, done=_DONE[action])


@router.post("/visit/{token}/confirm")
def confirm(request: Request, db: DbDep, token: str) -> Response:
    return _answer(request, db, token, "confirm")


@router.post("/visit/{token}/cancel")
def cancel(request: Request, db: DbDep, token: str) -> Response:
    return _answer(request, db, token, "cancel")


__all__ = ["router"]
