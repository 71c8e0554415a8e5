"""Today: the day's appointments for everybody, the sessions under way for clinical staff."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.store.book_setup import get_settings
from microamp.store.models import Appointment, Client
from microamp.store.records import list_session_records
from microamp.web.deps import CsrfChecked, DbDep, PageUser, audit
from microamp.web.live import live_sessions
from microamp.web.render import page
from microamp.web.roles import CLINICAL

router = APIRouter(dependencies=[CsrfChecked])


def appointments_between(db: Session, first: date, last: date) -> list[dict[str, Any]]:
    """Planned appointments from ``first`` to ``last`` with their client's contact details."""
    rows = db.execute(
        select(Appointment, Client)
        .join(Client, Appointment.client_id == Client.id)
        .where(Appointment.on_date >= first, Appointment.on_date <= last)
        .where(Appointment.state.in_(("booked", "confirmed")))
        .order_by(Appointment.on_date, Appointment.starts_at, Client.full_name)
    ).all()
    zone = clinic_zone(get_settings(db).time_zone)
    return [
        {
            "date": appt.on_date,
            "number": appt.number,
            # a booked visit by its time in the clinic's zone, a plan's session by its number
            "label": (
                f"{appt.starts_at.astimezone(zone):%H:%M}"
                if appt.starts_at is not None
                else f"#{appt.number}"
            ),
            "client_id": client.id,
            "client": client.full_name,
            "phone": client.phone,
            "email": client.email,
        }
        for appt, client in rows
    ]


@router.get("/")
def dashboard(request: Request, user: PageUser, db: DbDep) -> Response:
    today = date.today()
    live = live_sessions(request)
    clinical = user.role in CLINICAL
    recent = list_session_records(db, limit=6) if clinical else []
    if clinical and recent:
        audit(db, user, "read", "records:recent", count=len(recent))
    return page(
        request,
        "dashboard.html",
        user,
        title="Today",
        today=today,
        appointments=appointments_between(db, today, today),
        upcoming=appointments_between(db, today + timedelta(days=1), today + timedelta(days=7)),
        running=live.snapshot() if clinical else [],
        recent=recent,
        clients={c.id: c.full_name for c in db.scalars(select(Client))} if recent else {},
    )
