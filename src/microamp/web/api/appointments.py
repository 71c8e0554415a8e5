"""The schedule: appointments of a day, with the client's contact details."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from microamp.web.api.models import AppointmentPublic
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep
from microamp.web.pages.dashboard import appointments_between

router = APIRouter(tags=["schedule"])


@router.get(
    "/appointments", responses=invalid("`on` is not a date (YYYY-MM-DD), or `days` is not 1-62")
)
def appointments(
    _user: ApiUser,
    db: DbDep,
    on: date | None = None,
    days: Annotated[int, Query(ge=1, le=62)] = 1,
) -> list[AppointmentPublic]:
    """Planned appointments from ``on`` (today by default) for ``days`` days."""
    first = on or date.today()
    rows = appointments_between(db, first, first + timedelta(days=days - 1))
    return [AppointmentPublic(**row) for row in rows]
