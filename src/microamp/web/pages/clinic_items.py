"""The owner edits one room (name, station) or one service (name, duration, buffer, price,
protocol, manual steps) of the clinic, each on a page of its own: a bad value keeps what was
typed and is named beside its field. A service's new duration or buffer applies to visits
booked from then on: those already on the book keep their times (the page says how many)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microamp.clinic.booking import ACTIVE_STATES, STEP_KINDS
from microamp.errors import InvalidValue
from microamp.store.book_models import Room, Service
from microamp.store.book_setup import get_room, get_service, update_room, update_service
from microamp.store.models import Appointment, User
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId
from microamp.web.errors import FieldError
from microamp.web.pages.clinic_settings import (
    errors_of,
    saved_or_sent_back,
    service_errors,
    service_values,
    steps_text,
)
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])


def _room_typed(room: Room) -> dict[str, str]:
    return {"room_name": room.name, "station_name": room.station_name or ""}


def _room_page(
    request: Request,
    owner: User,
    room: Room,
    typed: dict[str, str],
    errors: list[FieldError] | None = None,
) -> Response:
    return page(request, "clinic_room.html", owner, title=f"Edit {room.name}", room=room,
                typed=typed, errors=errors or [], status_code=422 if errors else 200)  # fmt: skip


@router.get("/settings/clinic/rooms/{room_id}")
def room_form(request: Request, owner: PageUser, db: DbDep, room_id: RowId) -> Response:
    room = get_room(db, room_id=room_id)
    return _room_page(request, owner, room, _room_typed(room))


@router.post("/settings/clinic/rooms/{room_id}")
def edit_room(
    request: Request,
    owner: PageUser,
    db: DbDep,
    room_id: RowId,
    room_name: Annotated[str, Form(max_length=120)] = "",
    station_name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    typed = {"room_name": room_name, "station_name": station_name}
    return saved_or_sent_back(
        db,
        lambda: update_room(db, room_id=room_id, name=room_name, station_name=station_name),
        "room",
        lambda exc: _room_page(request, owner, get_room(db, room_id=room_id), typed,
                               errors_of(exc, {"name": "room_name"})),
    )  # fmt: skip


def _service_typed(service: Service) -> dict[str, str]:
    return {
        "service_name": service.name,
        "duration_min": str(service.duration_min),
        "buffer_min": str(service.buffer_min),
        "price": f"{service.price_minor / 100:.2f}",
        "protocol_name": service.protocol_name or "",
        "steps": steps_text(service.steps),
        "description": service.description,
    }


def upcoming_visits(db: Session, service_id: int) -> int:
    """How many visits of the service are still ahead on the book (they keep their times)."""
    return db.scalar(
        select(func.count()).select_from(Appointment).where(
            Appointment.service_id == service_id,
            Appointment.state.in_(ACTIVE_STATES),
            Appointment.starts_at >= datetime.now(UTC),
        )
    ) or 0  # fmt: skip


def _service_page(
    request: Request,
    owner: User,
    db: Session,
    service: Service,
    typed: dict[str, str],
    errors: list[FieldError] | None = None,
) -> Response:
    context: dict[str, Any] = {
        "service": service, "typed": typed, "errors": errors or [], "step_kinds": STEP_KINDS,
        "upcoming": upcoming_visits(db, service.id),
    }  # fmt: skip
    return page(request, "clinic_service.html", owner, title=f"Edit {service.name}",
                status_code=422 if errors else 200, **context)  # fmt: skip


@router.get("/settings/clinic/services/{service_id}")
def service_form(request: Request, owner: PageUser, db: DbDep, service_id: RowId) -> Response:
    service = get_service(db, service_id=service_id)
    return _service_page(request, owner, db, service, _service_typed(service))


def _sent_back_service(
    request: Request, owner: User, db: Session, service_id: int, typed: dict[str, str]
) -> Any:
    def sent_back(exc: InvalidValue) -> Response:
        service = get_service(db, service_id=service_id)
        return _service_page(request, owner, db, service, typed, service_errors(exc, typed))

    return sent_back


@router.post("/settings/clinic/services/{service_id}")
def edit_service(
    request: Request,
    owner: PageUser,
    db: DbDep,
    service_id: RowId,
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
        lambda: update_service(db, service_id=service_id, **service_values(typed)),
        "service",
        _sent_back_service(request, owner, db, service_id, typed),
    )
