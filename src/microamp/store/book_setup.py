"""The clinic's settings, closures, rooms and services: what the appointment book books into.

Keyword-only functions over a session; bad values raise `InvalidValue` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import (
    ClosureDays,
    Hours,
    clinic_zone,
    hours_as_json,
    parse_hours,
    parse_steps,
)
from microamp.clinic.plans import parse_weekdays
from microamp.errors import InvalidValue
from microamp.store.book_models import ClinicSettings, ClosurePeriod, Room, Service
from microamp.store.crud import clean_text, get_client, get_or_404
from microamp.store.station_models import Station

__all__ = [
    "add_closure",
    "add_room",
    "add_service",
    "clinic_hours",
    "closure_days",
    "get_room",
    "get_service",
    "get_settings",
    "list_closures",
    "list_rooms",
    "list_services",
    "plan_closures",
    "plan_weekdays",
    "remove_closure",
    "save_settings",
    "update_room",
    "update_service",
]

_UNSET: Any = object()


def get_settings(session: Session) -> ClinicSettings:
    """The clinic's one settings row; its defaults (UTC, no hours), not stored, when there is
    none yet (a clinic not set up through the setup link): `save_settings` stores them."""
    row = session.get(ClinicSettings, 1)
    if row is None:
        row = ClinicSettings(
            id=1,
            name="",
            address="",
            time_zone="UTC",
            opening_hours=hours_as_json(parse_hours({})),
            care_sheet="",
            reminder_lead_hours=24,
            currency="USD",
            retention_years=0,
        )
    return row


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha():
        raise InvalidValue("currency", value, "a three-letter code such as USD or EUR")
    return value.upper()


def save_settings(
    session: Session,
    *,
    name: str = _UNSET,
    address: str = _UNSET,
    time_zone: str = _UNSET,
    opening_hours: Mapping[str, Any] = _UNSET,
    care_sheet: str = _UNSET,
    reminder_lead_hours: int = _UNSET,
    currency: str = _UNSET,
    retention_years: int = _UNSET,
) -> ClinicSettings:
    """Change the settings given; the rest stay. ``opening_hours`` as `parse_hours` reads it;
    ``reminder_lead_hours`` 1-336 (two weeks); ``retention_years`` 0-100 (0: no hold)."""
    row = get_settings(session)
    if row not in session:
        session.add(row)
    if name is not _UNSET:
        row.name = clean_text("name", name)
    if address is not _UNSET:
        if len(address) > 1000:
            raise InvalidValue("address", address[:40], "at most 1000 characters")
        row.address = address.strip()
    if time_zone is not _UNSET:
        row.time_zone = clinic_zone(time_zone.strip()).key
    if opening_hours is not _UNSET:
        row.opening_hours = hours_as_json(parse_hours(opening_hours))
    if care_sheet is not _UNSET:
        if len(care_sheet) > 20_000:
            raise InvalidValue("care_sheet", care_sheet[:40], "at most 20,000 characters")
        row.care_sheet = care_sheet.strip()
    if reminder_lead_hours is not _UNSET:
        if isinstance(reminder_lead_hours, bool) or not 1 <= reminder_lead_hours <= 336:
            raise InvalidValue("reminder_lead_hours", reminder_lead_hours, "1-336 hours")
        row.reminder_lead_hours = reminder_lead_hours
    if currency is not _UNSET:
        row.currency = _currency(currency)
    if retention_years is not _UNSET:
        if isinstance(retention_years, bool) or not 0 <= retention_years <= 100:
            raise InvalidValue("retention_years", retention_years, "0-100 years (0: no hold)")
        row.retention_years = retention_years
    session.flush()
    return row


def clinic_hours(row: ClinicSettings) -> Hours:
    """The settings' opening hours as times."""
    return parse_hours(row.opening_hours or {})


def add_closure(session: Session, *, first_day: date, last_day: date, reason: str) -> ClosurePeriod:
    """Close the clinic from ``first_day`` to ``last_day`` (inclusive) for ``reason``."""
    if last_day < first_day:
        raise InvalidValue("last_day", last_day.isoformat(), "on or after the first day")
    if (last_day - first_day).days > 366:
        raise InvalidValue("last_day", last_day.isoformat(), "a closure of at most a year")
    row = ClosurePeriod(first_day=first_day, last_day=last_day, reason=clean_text("reason", reason))
    session.add(row)
    session.flush()
    return row


def remove_closure(session: Session, *, closure_id: int) -> None:
    session.delete(get_or_404(session, ClosurePeriod, closure_id))
    session.flush()


def list_closures(session: Session, *, from_day: date | None = None) -> list[ClosurePeriod]:
    """Closures in order, those ending before ``from_day`` left out."""
    query = select(ClosurePeriod).order_by(ClosurePeriod.first_day)
    if from_day is not None:
        query = query.where(ClosurePeriod.last_day >= from_day)
    return list(session.scalars(query))


def closure_days(session: Session, *, first: date, last: date) -> list[ClosureDays]:
    """The closures that touch ``first``..``last``, as the rules read them."""
    rows = session.scalars(
        select(ClosurePeriod).where(
            ClosurePeriod.first_day <= last, ClosurePeriod.last_day >= first
        )
    )
    return [ClosureDays(r.first_day, r.last_day, r.reason) for r in rows]


def plan_closures(session: Session, *, from_day: date) -> list[tuple[date, date]]:
    """The closures a course plan from ``from_day`` skips, as `plan_course` takes them."""
    return [(c.first_day, c.last_day) for c in list_closures(session, from_day=from_day)]


def plan_weekdays(
    session: Session, *, client_id: int, chosen: Iterable[str] = ()
) -> tuple[int, ...]:
    """The weekdays (0 = Monday) a course plan uses: those ``chosen`` (day names), else the
    client's preferred days, else none (the template's own)."""
    names = [d for d in chosen if d] or list(
        get_client(session, client_id=client_id).preferred_weekdays
    )
    return parse_weekdays(",".join(names)) if names else ()


def _station_name(session: Session, station_name: str | None) -> str | None:
    if station_name is None or not station_name.strip():
        return None
    name = station_name.strip()
    if session.scalar(select(Station.name).where(Station.name == name)) is None:
        raise InvalidValue("station_name", name, "the name of a registered station")
    return name


def _unique_name(
    session: Session, model: type[Room] | type[Service], name: str, own: int | None
) -> str:
    cleaned = clean_text("name", name, max_length=120)
    found = session.scalar(select(model.id).where(model.name == cleaned))
    if found is not None and found != own:
        raise InvalidValue("name", cleaned, f"another {model.__tablename__[:-1]} has this name")
    return cleaned


def add_room(
    session: Session, *, name: str, station_name: str | None = None, active: bool = True
) -> Room:
    """A room, optionally with the station (its device) in it."""
    room = Room(
        name=_unique_name(session, Room, name, None),
        station_name=_station_name(session, station_name),
        active=active,
    )
    session.add(room)
    session.flush()
    return room


def update_room(
    session: Session,
    *,
    room_id: int,
    name: str = _UNSET,
    station_name: str | None = _UNSET,
    active: bool = _UNSET,
) -> Room:
    room = get_room(session, room_id=room_id)
    if name is not _UNSET:
        room.name = _unique_name(session, Room, name, room.id)
    if station_name is not _UNSET:
        room.station_name = _station_name(session, station_name)
    if active is not _UNSET:
        room.active = bool(active)
    session.flush()
    return room


def get_room(session: Session, *, room_id: int) -> Room:
    return get_or_404(session, Room, room_id)


def list_rooms(session: Session, *, active_only: bool = False) -> list[Room]:
    query = select(Room).order_by(Room.name)
    if active_only:
        query = query.where(Room.active.is_(True))
    return list(session.scalars(query))


def _minutes(field: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(field, value, f"a whole number of minutes, {low}-{high}")
    return value


def _price(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue("price_minor", value, "0 or more, in cents (minor units)")
    return value


def _description(value: str) -> str:
    if not isinstance(value, str) or len(value.strip()) > 500:
        shown = value[:40] if isinstance(value, str) else value
        raise InvalidValue("description", shown, "at most 500 characters")
    return value.strip()


def add_service(
    session: Session,
    *,
    name: str,
    duration_min: int,
    price_minor: int = 0,
    currency: str = "USD",
    protocol_name: str | None = None,
    buffer_min: int = 0,
    steps: list[dict[str, Any]] | None = None,
    active: bool = True,
    description: str = "",
) -> Service:
    """A service clients book: ``duration_min`` 5-480, ``buffer_min`` 0-120 after it,
    ``price_minor`` in cents of ``currency``, ``steps`` as `parse_steps` reads them,
    ``description`` what the public booking page says of it (at most 500 characters)."""
    service = Service(
        name=_unique_name(session, Service, name, None),
        description=_description(description),
        duration_min=_minutes("duration_min", duration_min, 5, 480),
        buffer_min=_minutes("buffer_min", buffer_min, 0, 120),
        price_minor=_price(price_minor),
        currency=_currency(currency),
        protocol_name=None if not protocol_name else clean_text("protocol_name", protocol_name),
        steps=parse_steps(steps),
        active=active,
    )
    session.add(service)
    session.flush()
    return service


def update_service(
    session: Session,
    *,
    service_id: int,
    name: str = _UNSET,
    duration_min: int = _UNSET,
    price_minor: int = _UNSET,
    currency: str = _UNSET,
    protocol_name: str | None = _UNSET,
    buffer_min: int = _UNSET,
    steps: list[dict[str, Any]] = _UNSET,
    active: bool = _UNSET,
    description: str = _UNSET,
) -> Service:
    """Change the values given. Appointments already booked keep their times."""
    service = get_service(session, service_id=service_id)
    if name is not _UNSET:
        service.name = _unique_name(session, Service, name, service.id)
    if description is not _UNSET:
        service.description = _description(description)
    if duration_min is not _UNSET:
        service.duration_min = _minutes("duration_min", duration_min, 5, 480)
    if buffer_min is not _UNSET:
        service.buffer_min = _minutes("buffer_min", buffer_min, 0, 120)
    if price_minor is not _UNSET:
        service.price_minor = _price(price_minor)
    if currency is not _UNSET:
        service.currency = _currency(currency)
    if protocol_name is not _UNSET:
        service.protocol_name = (
            None if not protocol_name else clean_text("protocol_name", protocol_name)
        )
    if steps is not _UNSET:
        service.steps = parse_steps(steps)
    if active is not _UNSET:
        service.active = bool(active)
    session.flush()
    return service


def get_service(session: Session, *, service_id: int) -> Service:
    return get_or_404(session, Service, service_id)


def list_services(session: Session, *, active_only: bool = False) -> list[Service]:
    query = select(Service).order_by(Service.name)
    if active_only:
        query = query.where(Service.active.is_(True))
    return list(session.scalars(query))
