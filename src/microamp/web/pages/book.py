"""The book's day: a 15-minute grid with a column per room, in the clinic's zone; booking by
form (a refusal shown beside the form with its reason, what was typed kept) and a visit's next
state (confirm, check in, no-show, cancel) by button. Reception books: no health data here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import GRID_MINUTES, TRANSITIONS, WEEKDAYS, clinic_zone
from microamp.errors import Conflict, InvalidValue
from microamp.store.book import (
    MOVABLE_STATES,
    appointments_between,
    book_appointment,
    get_appointment,
    move_appointment,
    set_state,
)
from microamp.store.book_setup import clinic_hours, get_settings, list_rooms, list_services
from microamp.store.models import Appointment, Client, User
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId
from microamp.web.pages.client_choices import ChosenQuery, ClientQuery, client_choices
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

# the states a button on the book may set (in treatment and completed come from the session)
BUTTON_STATES = ("confirmed", "checked_in", "no_show", "cancelled")
STATE_WORDS = {"confirmed": "Confirm", "checked_in": "Check in", "no_show": "No-show",
               "cancelled": "Cancel"}  # fmt: skip


def shown_day(raw: str | None, today: date) -> date:
    if not raw:
        return today
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue("day", raw, "a date as YYYY-MM-DD") from None


def grid_slots(hours: list[tuple[time, time]]) -> list[time]:
    slots: list[time] = []
    for opens, closes in hours:
        at = datetime.combine(date.min, opens)
        while at.time() < closes:
            slots.append(at.time())
            at += timedelta(minutes=GRID_MINUTES)
    return slots


def active_practitioners(db: Session) -> list[User]:
    """Who can be booked: active owners and practitioners, by name."""
    return list(db.scalars(
        select(User).where(User.active.is_(True), User.role.in_(("owner", "practitioner")))
        .order_by(User.display_name)))  # fmt: skip


class Cards:
    """What the book shows of each visit (no health data), with the names it needs looked
    up once for all ``visits``."""

    def __init__(self, db: Session, visits: list[Appointment], zone: ZoneInfo) -> None:
        self.zone = zone
        # names only: a full day is 180 visits, and a whole client row each (JSON decoded)
        # cost more than the rest of the page's queries together
        self.clients: dict[int, str] = {row.id: row.full_name for row in db.execute(
            select(Client.id, Client.full_name).where(Client.id.in_({v.client_id for v in visits})))}  # fmt: skip
        self.users: dict[int, str] = {row.id: row.display_name for row in db.execute(
            select(User.id, User.display_name))}  # fmt: skip
        self.rooms = {r.id: r.name for r in list_rooms(db)}
        self.services = {s.id: s.name for s in list_services(db)}

    def card(self, v: Appointment) -> dict[str, Any]:
        assert v.starts_at is not None and v.ends_at is not None
        start, end = v.starts_at.astimezone(self.zone), v.ends_at.astimezone(self.zone)
        minute = start.minute - start.minute % GRID_MINUTES
        return {
            "id": v.id, "client": self.clients.get(v.client_id, ""), "client_id": v.client_id,
            "day": start.date(), "slot": f"{start.hour:02d}:{minute:02d}",
            "start": f"{start:%Y-%m-%dT%H:%M}", "minutes": (end - start) // timedelta(minutes=1),
            "span": f"{start:%H:%M}-{end:%H:%M}", "state": v.state,
            "service": self.services.get(v.service_id or 0, ""),
            "practitioner": self.users.get(v.practitioner_id or 0, ""),
            "room": self.rooms.get(v.room_id or 0, ""),
            "movable": v.state in MOVABLE_STATES,
            "next": [s for s in TRANSITIONS[v.state] if s in BUTTON_STATES],
        }  # fmt: skip


def _day_context(
    db: Session, day: date, by: str = "room", client_q: str = "", chosen: str = ""
) -> dict[str, Any]:
    settings = get_settings(db)
    zone = clinic_zone(settings.time_zone)
    first = datetime.combine(day, time.min, zone).astimezone(UTC)
    visits = appointments_between(db, first=first, last=first + timedelta(days=1))
    practitioners = active_practitioners(db)
    services = list_services(db, active_only=True)
    rooms = list_rooms(db, active_only=True)
    cards = Cards(db, visits, zone)
    cells: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for v in visits:
        card = cards.card(v)
        column = (v.practitioner_id if by == "practitioner" else v.room_id) or 0
        cells.setdefault((card["slot"], column), []).append(card)
    periods = clinic_hours(settings)[WEEKDAYS[day.weekday()]]
    return {
        "day": day,
        "previous": day - timedelta(days=1),
        "following": day + timedelta(days=1),
        "zone": zone.key,
        "slots": [f"{t:%H:%M}" for t in grid_slots(periods)],
        "rooms": rooms,
        "by": by,
        "columns": [{"id": u.id, "name": u.display_name} for u in practitioners]
        if by == "practitioner"
        else [{"id": r.id, "name": r.name} for r in rooms],
        "cells": cells,
        "services": services,
        "practitioners": practitioners,
        "state_words": STATE_WORDS,
        **client_choices(db, client_q, chosen),
    }


def columns_by(raw: str | None) -> str:
    if raw in (None, "", "room"):
        return "room"
    if raw != "practitioner":
        raise InvalidValue("by", raw, "room or practitioner")
    return raw


@router.get("/book")
def book_day(
    request: Request,
    user: PageUser,
    db: DbDep,
    day: str | None = None,
    by: str | None = None,
    client_q: ClientQuery = "",
) -> Response:
    shown = shown_day(day, date.today())
    context = _day_context(db, shown, columns_by(by), client_q=client_q)
    return page(request, "book.html", user, title="Book", nav="book",
                form={}, errors=[], **context)  # fmt: skip


@router.get("/book/clients")
def book_clients(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_q: ClientQuery = "",
    client_id: ChosenQuery = "",
) -> Response:
    """The booking form's client choices for a search, swapped in as it is typed."""
    return page(request, "client_choices.html", user, **client_choices(db, client_q, client_id))


@router.post("/book")
def book_visit(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: Annotated[str, Form(max_length=12)] = "",
    service_id: Annotated[str, Form(max_length=12)] = "",
    room_id: Annotated[str, Form(max_length=12)] = "",
    practitioner_id: Annotated[str, Form(max_length=12)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    start: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    form = {"client_id": client_id, "service_id": service_id, "room_id": room_id,
            "practitioner_id": practitioner_id, "day": day, "start": start}  # fmt: skip
    shown = date.today()
    try:
        shown = shown_day(day, shown)
        ids: dict[str, int] = {}
        for field in ("client_id", "service_id", "room_id", "practitioner_id"):
            if not form[field].isdigit():
                raise InvalidValue(field, form[field], "choose one")
            ids[field] = int(form[field])
        try:
            at = time.fromisoformat(start)
        except ValueError:
            raise InvalidValue("start", start, "a time as HH:MM") from None
        book_appointment(
            db,
            client_id=ids["client_id"],
            service_id=ids["service_id"],
            room_id=ids["room_id"],
            practitioner_id=ids["practitioner_id"],
            start=datetime.combine(shown, at),
            booked_by_id=user.id,
        )
        db.commit()
    except (Conflict, InvalidValue) as exc:
        db.rollback()
        field = "start" if isinstance(exc, Conflict) else exc.field
        field = field if field in form else "start"
        message = exc.reason if isinstance(exc, Conflict) else exc.rule
        label = field.removesuffix("_id").replace("_", " ").capitalize()
        # the client is chosen from a search: its error sends the reader to the search
        target = "client_q" if field == "client_id" else field
        errors = [{"field": field, "target": target, "message": f"{label}: {message}"}]
        status = 409 if isinstance(exc, Conflict) else 422
        return page(request, "book.html", user, title="Book", nav="book", status_code=status,
                    form=form, errors=errors, **_day_context(db, shown, chosen=client_id))  # fmt: skip
    return RedirectResponse(f"/book?day={shown.isoformat()}", status_code=303)


@router.post("/book/{appointment_id}/state")
def change_state(
    user: PageUser,
    db: DbDep,
    appointment_id: RowId,
    state: Annotated[str, Form(max_length=20)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    by: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    if state not in BUTTON_STATES:
        raise InvalidValue("state", state, f"one of {', '.join(BUTTON_STATES)}")
    shown = shown_day(day, date.today())
    columns = columns_by(by)
    set_state(db, appointment_id=appointment_id, state=state)
    db.commit()
    return RedirectResponse(f"/book?day={shown.isoformat()}&by={columns}", status_code=303)


# the field a refusal is shown beside: the room's or practitioner's choice, else the time
CONFLICT_FIELDS = {"room": "room_id", "practitioner": "practitioner_id"}
_MOVE_LABELS = {"day": "Day", "start": "Start", "end": "End", "room_id": "Room",
                "practitioner_id": "Practitioner"}  # fmt: skip


def _move_page(
    request: Request,
    user: User,
    db: Session,
    appointment_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    visit = get_appointment(db, appointment_id=appointment_id)
    settings = get_settings(db)
    zone = clinic_zone(settings.time_zone)
    client = db.get(Client, visit.client_id)
    if form is None:
        if visit.starts_at is None or visit.ends_at is None:
            raise InvalidValue("appointment_id", appointment_id, "an appointment with a time")
        start, end = visit.starts_at.astimezone(zone), visit.ends_at.astimezone(zone)
        form = {"day": start.date().isoformat(), "start": f"{start:%H:%M}",
                "end": f"{end:%H:%M}", "room_id": str(visit.room_id or ""),
                "practitioner_id": str(visit.practitioner_id or "")}  # fmt: skip
    practitioners = active_practitioners(db)
    return page(request, "book_move.html", user, title="Move a visit", nav="book",
                status_code=status_code, visit=visit, client=client, form=form,
                errors=errors or [], zone=zone.key, movable=visit.state in MOVABLE_STATES,
                rooms=list_rooms(db, active_only=True), practitioners=practitioners)  # fmt: skip


@router.get("/book/{appointment_id}/move")
def move_form(request: Request, user: PageUser, db: DbDep, appointment_id: RowId) -> Response:
    return _move_page(request, user, db, appointment_id)


def _clock_of(field: str, raw: str) -> time:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(field, raw, "a time as HH:MM") from None


@router.post("/book/{appointment_id}/move")
def move_visit(
    request: Request,
    user: PageUser,
    db: DbDep,
    appointment_id: RowId,
    day: Annotated[str, Form(max_length=10)] = "",
    start: Annotated[str, Form(max_length=5)] = "",
    end: Annotated[str, Form(max_length=5)] = "",
    room_id: Annotated[str, Form(max_length=12)] = "",
    practitioner_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Move (day, start, room, practitioner) and resize (a new end) a visit in one go."""
    form = {"day": day, "start": start, "end": end, "room_id": room_id,
            "practitioner_id": practitioner_id}  # fmt: skip
    try:
        shown = shown_day(day, date.today())
        begins, ends = _clock_of("start", start), _clock_of("end", end)
        minutes = (ends.hour * 60 + ends.minute) - (begins.hour * 60 + begins.minute)
        if minutes <= 0:
            raise InvalidValue("end", end, "after the start")
        for field in ("room_id", "practitioner_id"):
            if not form[field].isdigit():
                raise InvalidValue(field, form[field], "choose one")
        move_appointment(
            db,
            appointment_id=appointment_id,
            start=datetime.combine(shown, begins),
            duration_min=minutes,
            room_id=int(room_id),
            practitioner_id=int(practitioner_id),
        )
        db.commit()
    except (Conflict, InvalidValue) as exc:
        db.rollback()
        if isinstance(exc, Conflict):
            field, message = CONFLICT_FIELDS.get(exc.kind, "start"), exc.reason
        else:
            field = exc.field if exc.field in form else "start"
            message = exc.rule
            if exc.field == "duration_min":
                field = "end"
        errors = [{"field": field, "target": field, "message": f"{_MOVE_LABELS[field]}: {message}"}]
        status = 409 if isinstance(exc, Conflict) else 422
        return _move_page(request, user, db, appointment_id, form=form, errors=errors,
                          status_code=status)  # fmt: skip
    return RedirectResponse(f"/book?day={shown.isoformat()}", status_code=303)
