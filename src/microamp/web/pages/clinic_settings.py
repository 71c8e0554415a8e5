"""The owner's clinic settings: name, address, time zone, opening hours per weekday, the
reminder lead and the care sheet; closures; rooms; services with their steps. Each form keeps
what was typed on a bad value and shows the error beside its field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic.booking import STEP_KINDS, WEEKDAYS
from microamp.errors import InvalidValue
from microamp.store.access import append_audit
from microamp.store.book_setup import (
    add_closure,
    add_room,
    add_service,
    clinic_hours,
    get_settings,
    list_closures,
    list_rooms,
    list_services,
    remove_closure,
    save_settings,
    update_room,
    update_service,
)
from microamp.store.models import User
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId
from microamp.web.errors import FieldError, field_errors
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))  # fmt: skip
_LABELS = {
    "name": "Name",
    "address": "Address",
    "time_zone": "Time zone",
    "reminder_lead_hours": "Reminder lead",
    "retention_years": "Records retention",
    "care_sheet": "Care sheet",
    "first_day": "First day",
    "last_day": "Last day",
    "reason": "Reason",
    "room_name": "Room name",
    "station_name": "Station",
    "service_name": "Service name",
    "duration_min": "Duration",
    "buffer_min": "Buffer",
    "price": "Price",
    "protocol_name": "Protocol",
    "steps": "Steps",
    "description": "Description",
    **{f"hours_{d}": f"{n} hours" for d, n in DAY_NAMES.items()},
}
_DONE = {
    "saved": "The clinic's settings are saved.",
    "closure": "The closure is added.",
    "reopened": "The closure is removed.",
    "room": "The room is saved.",
    "service": "The service is saved.",
}


def _hours_text(periods: list[Any]) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in periods)


def _parse_hours(typed: dict[str, str]) -> dict[str, list[list[str]]]:
    """``"09:00-12:00, 13:00-18:00"`` per weekday (empty: closed) as `parse_hours` reads it."""
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        field = f"hours_{day}"
        periods: list[list[str]] = []
        for part in typed[field].split(","):
            if not part.strip():
                continue
            ends = [p.strip() for p in part.split("-")]
            if len(ends) != 2:
                raise InvalidValue(field, part.strip(), "periods as 09:00-18:00, comma between")
            periods.append(ends)
        hours[day] = periods
    return hours


def _whole(field: str, value: str) -> int:
    if not value.strip().isdigit():
        raise InvalidValue(field, value, "a whole number")
    return int(value.strip())


def _price_minor(value: str) -> int:
    try:
        amount = round(float(value.strip() or "0") * 100)
    except ValueError:
        raise InvalidValue("price", value, "an amount such as 120 or 120.50") from None
    if amount < 0 or amount > 100_000_000:
        raise InvalidValue("price", value, "an amount from 0 to 1,000,000")
    return amount


def _parse_steps(text: str) -> list[dict[str, Any]]:
    """One step a line: ``name, minutes, kind``."""
    steps: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3 or not parts[1].isdigit():
            raise InvalidValue("steps", line.strip(), f"line {number}: name, minutes, kind")
        if parts[2] not in STEP_KINDS:
            raise InvalidValue(
                "steps", parts[2], f"line {number}: a kind of {', '.join(STEP_KINDS)}"
            )
        steps.append({"name": parts[0], "minutes": int(parts[1]), "kind": parts[2]})
    return steps


def service_values(typed: dict[str, str]) -> dict[str, Any]:
    """A service form's typed values as `add_service` and `update_service` take them."""
    return {
        "name": typed["service_name"],
        "duration_min": _whole("duration_min", typed["duration_min"]),
        "buffer_min": _whole("buffer_min", typed["buffer_min"] or "0"),
        "price_minor": _price_minor(typed["price"]),
        "protocol_name": typed["protocol_name"] or None,
        "steps": _parse_steps(typed["steps"]),
        "description": typed.get("description", ""),
    }


def steps_text(steps: list[dict[str, Any]]) -> str:
    return "\n".join(f"{s['name']}, {s['minutes']}, {s['kind']}" for s in steps)


def errors_of(exc: InvalidValue, fields: dict[str, str] | None = None) -> list[FieldError]:
    fields = dict(fields or {})
    for day in WEEKDAYS:
        fields[f"opening_hours.{day}"] = f"hours_{day}"
    errors = field_errors(exc, _LABELS, fields=fields)
    return [e if e.field in _LABELS else FieldError(e.field, e.field, e.message) for e in errors]


def _settings_page(request: Request, owner: User, db: Session, **extra: Any) -> Response:
    stored = get_settings(db)
    hours = clinic_hours(stored)
    typed = extra.pop("typed", None) or {
        "name": stored.name,
        "address": stored.address,
        "time_zone": stored.time_zone,
        "reminder_lead_hours": str(stored.reminder_lead_hours),
        "retention_years": str(stored.retention_years),
        "care_sheet": stored.care_sheet,
        **{f"hours_{d}": _hours_text(hours[d]) for d in WEEKDAYS},
    }
    services = list_services(db)
    return page(
        request,
        "clinic_settings.html",
        owner,
        title="Clinic",
        typed=typed,
        closure=extra.pop("closure", {}),
        room=extra.pop("room", {}),
        service=extra.pop("service", {}),
        errors=extra.pop("errors", []),
        closure_errors=extra.pop("closure_errors", []),
        room_errors=extra.pop("room_errors", []),
        service_errors=extra.pop("service_errors", []),
        day_names=DAY_NAMES,
        step_kinds=STEP_KINDS,
        closures=list_closures(db, from_day=date.today()),
        rooms=list_rooms(db),
        services=services,
        steps_text={s.id: steps_text(s.steps) for s in services},
        **extra,
    )


def _done(what: str) -> RedirectResponse:
    return RedirectResponse(f"/settings/clinic?done={what}", status_code=303)


def saved_or_sent_back(
    db: Session,
    save: Callable[[], object],
    done: str,
    sent_back: Callable[[InvalidValue], Response],
) -> Response:
    """Run ``save`` (which parses what was typed too): committed and back to the settings with
    ``done``'s message, or, on a bad value, nothing kept and ``sent_back``'s page (a 422) with
    the error beside its field."""
    try:
        save()
    except InvalidValue as exc:
        db.rollback()
        return sent_back(exc)
    db.commit()
    return _done(done)


def service_errors(exc: InvalidValue, typed: dict[str, str]) -> list[FieldError]:
    """A service's errors by the form's fields; a step's own field (``steps[0].kind``) is the
    steps box."""
    errors = errors_of(exc, {"name": "service_name", "price_minor": "price"})
    return [e if e.field in typed else FieldError("steps", "steps", e.message) for e in errors]


def save_retention(db: Session, owner: User, years: int) -> None:
    """Set how many years after the last treatment a client's records are held from erasure;
    a change is audited, since it decides which erasures are refused."""
    was = get_settings(db).retention_years
    save_settings(db, retention_years=years)
    if years != was:
        append_audit(db, actor_id=owner.id, actor=owner.email, action="write",
                     resource="settings:retention", detail={"change": "retention",
                     "retention_years": years, "was": was})  # fmt: skip


@router.get("/settings/clinic")
def clinic_page(request: Request, owner: PageUser, db: DbDep, done: str = "") -> Response:
    return _settings_page(request, owner, db, done=_DONE.get(done, ""))


@router.post("/settings/clinic")
def save_clinic(
    request: Request,
    owner: PageUser,
    db: DbDep,
    name: Annotated[str, Form(max_length=200)] = "",
    address: Annotated[str, Form(max_length=1000)] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
    reminder_lead_hours: Annotated[str, Form(max_length=6)] = "",
    care_sheet: Annotated[str, Form(max_length=20_000)] = "",
    hours_mon: Annotated[str, Form(max_length=100)] = "",
    hours_tue: Annotated[str, Form(max_length=100)] = "",
    hours_wed: Annotated[str, Form(max_length=100)] = "",
    hours_thu: Annotated[str, Form(max_length=100)] = "",
    hours_fri: Annotated[str, Form(max_length=100)] = "",
    hours_sat: Annotated[str, Form(max_length=100)] = "",
    hours_sun: Annotated[str, Form(max_length=100)] = "",
    retention_years: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    typed = {"name": name, "address": address, "time_zone": time_zone,
             "reminder_lead_hours": reminder_lead_hours, "care_sheet": care_sheet,
             "hours_mon": hours_mon, "hours_tue": hours_tue, "hours_wed": hours_wed,
             "hours_thu": hours_thu, "hours_fri": hours_fri, "hours_sat": hours_sat,
             "hours_sun": hours_sun, "retention_years": retention_years}  # fmt: skip

    def save() -> None:
        save_settings(
            db,
            name=name,
            address=address,
            time_zone=time_zone,
            reminder_lead_hours=_whole("reminder_lead_hours", reminder_lead_hours),
            care_sheet=care_sheet,
            opening_hours=_parse_hours(typed),
        )
        save_retention(db, owner, _whole("retention_years", retention_years))

    return saved_or_sent_back(
        db,
        save,
        "saved",
        lambda exc: _settings_page(
            request, owner, db, typed=typed, errors=errors_of(exc), status_code=422
        ),  # fmt: skip
    )


def _day(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(field, value, "a date as YYYY-MM-DD") from None


@router.post("/settings/clinic/closures")
def add_clinic_closure(
    request: Request,
    owner: PageUser,
    db: DbDep,
    first_day: Annotated[str, Form(max_length=10)] = "",
    last_day: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    typed = {"first_day": first_day, "last_day": last_day or first_day, "reason": reason}
    return saved_or_sent_back(
        db,
        lambda: add_closure(db, first_day=_day("first_day", first_day),
                            last_day=_day("last_day", typed["last_day"]), reason=reason),
        "closure",
        lambda exc: _settings_page(request, owner, db, closure=typed,
                                   closure_errors=errors_of(exc), status_code=422),
    )  # fmt: skip


@router.post("/settings/clinic/closures/{closure_id}/remove")
def remove_clinic_closure(owner: PageUser, db: DbDep, closure_id: RowId) -> Response:
    remove_closure(db, closure_id=closure_id)
    db.commit()
    return _done("reopened")


@router.post("/settings/clinic/rooms")
def add_clinic_room(
    request: Request,
    owner: PageUser,
    db: DbDep,
    room_name: Annotated[str, Form(max_length=120)] = "",
    station_name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    typed = {"room_name": room_name, "station_name": station_name}
    return saved_or_sent_back(
        db,
        lambda: add_room(db, name=room_name, station_name=station_name or None),
        "room",
        lambda exc: _settings_page(request, owner, db, room=typed, status_code=422,
                                   room_errors=errors_of(exc, {"name": "room_name"})),
    )  # fmt: skip


@router.post("/settings/clinic/rooms/{room_id}/active")
def set_room_active(
    owner: PageUser, db: DbDep, room_id: RowId, active: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    update_room(db, room_id=room_id, active=active == "true")
    db.commit()
    return _done("room")


@router.post("/settings/clinic/services")
def add_clinic_service(
    request: Request,
    owner: PageUser,
    db: DbDep,
    service_name: Annotated[str, Form(max_length=120)] = "",
    duration_min: Annotated[str, Form(max_length=6)] = "",
    buffer_min: Annotated[str, Form(max_length=6)] = "",
    price: Annotated[str, Form(max_length=14)] = "",
    protocol_name: Annotated[str, Form(max_length=120)] = "",
    steps: Annotated[str, Form(max_length=5000)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    typed = {"service_name": service_name, "duration_min": duration_min,
             "buffer_min": buffer_min, "price": price, "protocol_name": protocol_name,
             "steps": steps, "description": description}  # fmt: skip
    return saved_or_sent_back(
        db,
        lambda: add_service(
            db,
            currency=get_settings(db).currency,
            **service_values(typed),
        ),
        "service",
        lambda exc: _settings_page(request, owner, db, service=typed, status_code=422,
                                   service_errors=service_errors(exc, typed)),
    )  # fmt: skip


@router.post("/settings/clinic/services/{service_id}/active")
def set_service_active(
    owner: PageUser, db: DbDep, service_id: RowId, active: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    update_service(db, service_id=service_id, active=active == "true")
    db.commit()
    return _done("service")
