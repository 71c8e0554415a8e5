"""Clients: contact details (every role may read and add them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from microamp.store.crud import create_client, get_client, list_clients
from microamp.web.api.models import ClientCreate, ClientPublic
from microamp.web.api.responses import invalid
from microamp.web.deps import MAX_ROW_ID, ApiUser, DbDep, RowId, audit

_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")
router = APIRouter(tags=["clients"])


@router.get(
    "/clients",
    responses=invalid(
        "`q` is over 200 characters, `limit` is not 1-500 or `offset` is out of range"
    ),
)
def clients(
    _user: ApiUser,
    db: DbDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> list[ClientPublic]:
    return [ClientPublic.of(c) for c in list_clients(db, search=q, limit=limit, offset=offset)]


@router.post(
    "/clients",
    status_code=201,
    responses=invalid(
        "A field breaks its rule, each named: `full_name` 1-200 characters, `date_of_birth` not in the future, `email` an address, `preferred_weekdays` day names"
    ),
)
def add_client(user: ApiUser, db: DbDep, body: ClientCreate) -> ClientPublic:
    client = create_client(
        db,
        full_name=body.full_name,
        date_of_birth=body.date_of_birth,
        email=body.email,
        phone=body.phone,
        preferred_weekdays=body.preferred_weekdays,
        today=date.today(),
    )
    audit(db, user, "write", f"client:{client.id}", client_id=client.id, change="created")
    return ClientPublic.of(client)


@router.get("/clients/{client_id}", responses=_ID)
def client(_user: ApiUser, db: DbDep, client_id: RowId) -> ClientPublic:
    return ClientPublic.of(get_client(db, client_id=client_id))
