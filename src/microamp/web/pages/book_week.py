"""The book's week (Monday to Sunday of the clinic's week, in its zone): a 15-minute grid with
a column per day, every room's or practitioner's visits or one's alone, each day's opening
hours and closures shown; at narrow widths the same week as a list by day. And a visit
dropped on the grid (dragged, or moved by the arrow keys): the store's one booking rule
decides, a refusal answered with its reason. Reception books: no health data here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic.booking import WEEKDAYS, clinic_zone, closure_reason
from microamp.errors import Conflict, InvalidValue
from microamp.store.book import appointments_between, move_appointment
from microamp.store.book_setup import clinic_hours, closure_days, get_settings, list_rooms
from microamp.store.models import Appointment
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId
from microamp.web.pages.book import (
    STATE_WORDS,
    Cards,
    active_practitioners,
    columns_by,
    grid_slots,
    shown_day,
)
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])


@dataclass
class WeekDay:
    """One day of the week: its opening periods (as text), a closure's reason, its slots and
    the visits starting in each."""

    day: date
    hours: str
    closed: str | None
    why: str | None
    slots: set[str]
    visits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def all_visits(self) -> list[dict[str, Any]]:
        return [v for slot in sorted(self.visits) for v in self.visits[slot]]


def _only(raw: str | None, choices: list[dict[str, Any]]) -> int | None:
    """The one room or practitioner shown, or None for all of them."""
    if raw in (None, ""):
        return None
    if not str(raw).isdigit() or int(str(raw)) not in {c["id"] for c in choices}:
        raise InvalidValue("only", raw, "one of the rooms or practitioners on the book")
    return int(str(raw))


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _week_days(db: Session, monday: date, zone: ZoneInfo) -> list[WeekDay]:
    hours = clinic_hours(get_settings(db))
    closures = closure_days(db, first=monday, last=monday + timedelta(days=6))
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        periods = hours[WEEKDAYS[day.weekday()]]
        # the rule's own words, and the closure's reason alone for the column's head
        closed = closure_reason(closures, day)
        why = next((c.reason for c in closures if c.first_day <= day <= c.last_day), None)
        days.append(WeekDay(
            day=day, hours=", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in periods) or "closed",
            closed=closed, why=why, slots=set() if closed else {f"{t:%H:%M}" for t in grid_slots(periods)},
        ))  # fmt: skip
    return days


def _visits(
    db: Session, monday: date, zone: ZoneInfo, by: str, only: int | None
) -> list[Appointment]:
    visits = appointments_between(
        db, first=_local_midnight(monday, zone), last=_local_midnight(monday + timedelta(days=7), zone)
    )  # fmt: skip
    if only is None:
        return visits
    return [v for v in visits if (v.practitioner_id if by == "practitioner" else v.room_id) == only]


def week_context(db: Session, day: date, by: str, only_raw: str | None) -> dict[str, Any]:
    zone = clinic_zone(get_settings(db).time_zone)
    monday = day - timedelta(days=day.weekday())
    choices = (
        [{"id": u.id, "name": u.display_name} for u in active_practitioners(db)]
        if by == "practitioner"
        else [{"id": r.id, "name": r.name} for r in list_rooms(db, active_only=True)]
    )
    only = _only(only_raw, choices)
    days = _week_days(db, monday, zone)
    visits = _visits(db, monday, zone, by, only)
    cards = Cards(db, visits, zone)
    by_day = {d.day: d for d in days}
    for v in visits:
        card = cards.card(v)
        by_day[card["day"]].visits.setdefault(card["slot"], []).append(card)
    slots = sorted(set().union(*(d.slots | set(d.visits) for d in days)))
    return {"monday": monday, "days": days, "slots": slots, "zone": zone.key, "by": by,
            "choices": choices, "only": only, "shown": next(
                (c["name"] for c in choices if c["id"] == only), None),
            "previous": monday - timedelta(days=7), "following": monday + timedelta(days=7),
            "state_words": STATE_WORDS}  # fmt: skip


@router.get("/book/week")
def book_week(
    request: Request,
    user: PageUser,
    db: DbDep,
    day: str | None = None,
    by: str | None = None,
    only: str | None = None,
) -> Response:
    context = week_context(db, shown_day(day, date.today()), columns_by(by), only)
    return page(request, "book_week.html", user, title="Book, the week", nav="book", **context)


def _drop_start(raw: str) -> datetime:
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidValue("start", raw, "a time as YYYY-MM-DDTHH:MM") from None
    if at.tzinfo is not None:
        raise InvalidValue("start", raw, "the clinic's wall clock, without an offset")
    return at


def _drop_changes(
    start: str, duration_min: str, room_id: str, practitioner_id: str
) -> dict[str, Any]:
    changes: dict[str, Any] = {"start": _drop_start(start)}
    for name, raw in (("duration_min", duration_min), ("room_id", room_id),
                      ("practitioner_id", practitioner_id)):  # fmt: skip
        if raw:
            if not raw.isdigit():
                raise InvalidValue(name, raw, "a whole number")
            changes[name] = int(raw)
    return changes


@router.post("/book/{appointment_id}/drop")
def drop_visit(
    db: DbDep,
    user: PageUser,
    appointment_id: RowId,
    start: Annotated[str, Form(max_length=16)] = "",
    duration_min: Annotated[str, Form(max_length=4)] = "",
    room_id: Annotated[str, Form(max_length=12)] = "",
    practitioner_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """A visit dropped on the grid: moved to ``start`` (and the room or practitioner given),
    or resized to ``duration_min``, through `move_appointment`. JSON: 200 with the new span,
    409 with the refusal's reason, 422 with a bad value's rule; the visit stays otherwise."""
    try:
        moved = move_appointment(
            db, appointment_id=appointment_id,
            **_drop_changes(start, duration_min, room_id, practitioner_id),
        )  # fmt: skip
        db.commit()
    except Conflict as exc:
        db.rollback()
        return JSONResponse({"kind": exc.kind, "reason": exc.reason}, status_code=409)
    except InvalidValue as exc:
        db.rollback()
        return JSONResponse({"kind": exc.field, "reason": exc.rule}, status_code=422)
    card = Cards(db, [moved], clinic_zone(get_settings(db).time_zone)).card(moved)
    return JSONResponse({"id": moved.id, "start": card["start"], "span": card["span"],
                         "room": card["room"], "practitioner": card["practitioner"]})  # fmt: skip
