"""The appointment book over JSON: rooms, services, and booking, moving and changing the state
of appointments. Every booking crosses the store's one rule (`microamp.store.book`): a
refusal is a 409 that names its reason, a bad value a 422."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book import (
    book_appointment,
    get_appointment,
    move_appointment,
    set_state,
)
from microamp.store.book_models import ClinicSettings, Room, Service
from microamp.store.book_setup import (
    get_settings,
    list_rooms,
    list_services,
    update_room,
    update_service,
)
from microamp.store.models import Appointment
from microamp.web.api.models import (
    BookingChange,
    BookingCreate,
    BookingPublic,
    RoomChange,
    RoomPublic,
    ServiceChange,
    ServicePublic,
    ServiceStep,
)
from microamp.web.api.responses import conflict, invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["book"])

_REFUSED = conflict(
    "The slot is taken (the room, the practitioner or the client, buffer included), outside "
    "opening hours, or on a closure; `detail` says which"
)


def _room(row: Room) -> RoomPublic:
    return RoomPublic(id=row.id, name=row.name, station_name=row.station_name, active=row.active)


def _service(row: Service) -> ServicePublic:
    return ServicePublic(
        id=row.id,
        name=row.name,
        description=row.description,
        duration_min=row.duration_min,
        buffer_min=row.buffer_min,
        price_minor=row.price_minor,
        currency=row.currency,
        protocol_name=row.protocol_name,
        steps=[ServiceStep(**step) for step in row.steps],
        active=row.active,
    )


def booking_public(settings: ClinicSettings, row: Appointment) -> BookingPublic:
    zone = clinic_zone(settings.time_zone)
    return BookingPublic(
        id=row.id,
        client_id=row.client_id,
        service_id=row.service_id,
        room_id=row.room_id,
        practitioner_id=row.practitioner_id,
        start=None if row.starts_at is None else row.starts_at.astimezone(zone),
        end=None if row.ends_at is None else row.ends_at.astimezone(zone),
        date=row.on_date,
        state=row.state,
        plan_id=row.plan_id,
        series_id=row.series_id,
        treatment_session_id=row.treatment_session_id,
    )


@router.get("/rooms")
def rooms(_user: ApiUser, db: DbDep) -> list[RoomPublic]:
    """Every room, active or not, by name."""
    return [_room(r) for r in list_rooms(db)]


@router.get("/services")
def services(_user: ApiUser, db: DbDep) -> list[ServicePublic]:
    """Every service with its duration, buffer, price and manual steps, by name."""
    return [_service(s) for s in list_services(db)]


# a field sent as null clears what may be empty (a room's station, a service's protocol)
_NULLABLE = ("station_name", "protocol_name")


def _changes(body: RoomChange | ServiceChange) -> dict[str, Any]:
    changes = {
        key: value
        for key, value in body.model_dump(exclude_unset=True).items()
        if value is not None or key in _NULLABLE
    }
    if not changes:
        raise InvalidValue("body", "{}", "at least one field to change")
    return changes


@router.patch(
    "/rooms/{room_id}",
    responses=invalid("`name` is empty or another room's, or `station_name` is not a station"),
)
def change_room(user: ApiUser, db: DbDep, room_id: RowId, body: RoomChange) -> RoomPublic:
    """Rename a room, set or clear its station, take it out of use or back (owner)."""
    row = update_room(db, room_id=room_id, **_changes(body))
    audit(db, user, "write", f"room:{row.id}", change="edited")
    return _room(row)


@router.patch(
    "/services/{service_id}",
    responses=invalid(
        "`name` is empty or another service's, `duration_min` is not 5-480, `buffer_min` not "
        "0-120, `price_minor` below 0, or a step's kind is not one of the step kinds"
    ),
)
def change_service(
    user: ApiUser, db: DbDep, service_id: RowId, body: ServiceChange
) -> ServicePublic:
    """Change a service (owner). A new duration or buffer applies to bookings made from then
    on; appointments already booked keep their times."""
    row = update_service(db, service_id=service_id, **_changes(body))
    audit(db, user, "write", f"service:{row.id}", change="edited")
    return _service(row)


@router.post(
    "/appointments",
    status_code=201,
    responses={
        **_REFUSED,
        **invalid(
            "`client_id`, `service_id`, `room_id` or `practitioner_id` is not an active one, or "
            "`start` is not a time in whole minutes that exists in the clinic's zone"
        ),
    },
)
def book(user: ApiUser, db: DbDep, body: BookingCreate) -> BookingPublic:
    """Book an appointment; ``start`` is read in the clinic's zone unless it carries an offset."""
    row = book_appointment(
        db,
        client_id=body.client_id,
        service_id=body.service_id,
        room_id=body.room_id,
        practitioner_id=body.practitioner_id,
        start=body.start,
        duration_min=body.duration_min,
        booked_by_id=user.id,
        notes=body.notes,
    )
    answer = booking_public(get_settings(db), row)
    audit(db, user, "write", f"appointment:{row.id}", client_id=row.client_id, change="booked")
    return answer


@router.get(
    "/appointments/{appointment_id}",
    responses=invalid("`appointment_id` is not a whole number from 1 to 2147483647"),
)
def appointment(_user: ApiUser, db: DbDep, appointment_id: RowId) -> BookingPublic:
    return booking_public(get_settings(db), get_appointment(db, appointment_id=appointment_id))


@router.patch(
    "/appointments/{appointment_id}",
    responses={
        **conflict(
            "The new slot is taken (the room, the practitioner or the client, buffer "
            "included), outside opening hours, or on a closure; the appointment stays where "
            "it was and `detail` says why"
        ),
        **invalid(
            "The `state` may not follow the current one, the appointment is no longer movable, "
            "or `duration_min` is not 5-480"
        ),
    },
)
def change(user: ApiUser, db: DbDep, appointment_id: RowId, body: BookingChange) -> BookingPublic:
    """Move, resize, or change the state; a move and a state in one request are refused."""
    moves: dict[str, Any] = {
        key: value
        for key, value in (
            ("start", body.start),
            ("room_id", body.room_id),
            ("practitioner_id", body.practitioner_id),
            ("duration_min", body.duration_min),
        )
        if value is not None
    }
    if moves and body.state is not None:
        raise InvalidValue("state", body.state, "change the state in a request of its own")
    if not moves and body.state is None:
        raise InvalidValue("body", "{}", "a start, room_id, practitioner_id, duration_min or state")
    if body.state is not None:
        if body.state == "in_treatment":
            raise InvalidValue("state", body.state, "a treatment starts from its session")
        row = set_state(db, appointment_id=appointment_id, state=body.state)
    else:
        row = move_appointment(db, appointment_id=appointment_id, **moves)
    answer = booking_public(get_settings(db), row)
    audit(
        db,
        user,
        "write",
        f"appointment:{row.id}",
        client_id=row.client_id,
        change=body.state or "moved",
    )
    return answer
