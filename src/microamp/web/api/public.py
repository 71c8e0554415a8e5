"""What anyone may read to book online, with no account: the clinic, its services and who
gives them, and a service's free slots (`microamp.store.slots`: each a start the book's one rule
takes). No health data and nobody's appointments: a slot says only that a start is free."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from microamp.clinic.booking import clinic_zone, hours_as_json
from microamp.store.book_setup import clinic_hours, get_settings, list_services
from microamp.store.slots import bookable_people, free_slots_between
from microamp.web.api.models import (
    FreeSlotPublic,
    FreeSlots,
    OnlinePractitioner,
    OnlineService,
    OnlineServices,
)
from microamp.web.api.responses import invalid
from microamp.web.deps import DbDep
from microamp.web.identity import wall_now

router = APIRouter(prefix="/public", tags=["online booking"])
# said in the OpenAPI document too: these operations take no token
_NO_TOKEN: dict[str, Any] = {"security": []}


@router.get("/services", openapi_extra=_NO_TOKEN)
def services(db: DbDep) -> OnlineServices:
    """The clinic's name, address, time zone and opening hours, its active services with
    duration, price and description, and who can be booked."""
    settings = get_settings(db)
    people = bookable_people(db)
    return OnlineServices(
        clinic=settings.name,
        address=settings.address,
        time_zone=settings.time_zone,
        opening_hours=hours_as_json(clinic_hours(settings)),
        services=[
            OnlineService(
                id=s.id,
                name=s.name,
                description=s.description,
                duration_min=s.duration_min,
                price_minor=s.price_minor,
                currency=s.currency,
            )  # fmt: skip
            for s in list_services(db, active_only=True)
        ],
        practitioners=[OnlinePractitioner(id=u.id, name=u.display_name) for u in people],
    )


@router.get(
    "/slots",
    openapi_extra=_NO_TOKEN,
    responses=invalid(
        "`service_id` is not an active service, `practitioner_id` not an active practitioner, "
        "`date` not a date (YYYY-MM-DD), or `days` not 1-31"
    ),
)
def slots(
    request: Request,
    db: DbDep,
    service_id: Annotated[int, Query(ge=1, le=2147483647)],
    on: Annotated[date, Query(alias="date", description="the first day, YYYY-MM-DD")],
    days: Annotated[int, Query(ge=1, le=31, description="how many days from `date`")] = 1,
    practitioner_id: Annotated[int | None, Query(ge=1, le=2147483647)] = None,
) -> FreeSlots:
    """Every free start of the service from ``date`` for ``days`` days, from now on, each with
    a practitioner free then (a start free with two is listed twice)."""
    settings = get_settings(db)
    zone = clinic_zone(settings.time_zone)
    found = free_slots_between(
        db, service_id=service_id, first=on, last=on + timedelta(days=days - 1),
        now=wall_now(request), practitioner_id=practitioner_id,
    )  # fmt: skip
    return FreeSlots(
        service_id=service_id,
        time_zone=settings.time_zone,
        slots=[
            FreeSlotPublic(start=slot.start.astimezone(zone), practitioner_id=slot.practitioner_id)
            for day in sorted(found)
            for slot in found[day]
        ],
    )
