"""Care instructions to print: before and after a session."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from microamp.clinic.care import CARE_KINDS, care_sheet
from microamp.errors import NotFound
from microamp.store.crud import get_client
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowIdQuery
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])


@router.get("/care/{kind}")
def care(
    request: Request, user: PageUser, db: DbDep, kind: str, client_id: RowIdQuery = None
) -> Response:
    if kind not in CARE_KINDS:
        raise NotFound(f"no care sheet {kind!r}: choose pre or post")
    client = get_client(db, client_id=client_id) if client_id else None
    return page(
        request,
        "care.html",
        user,
        title=care_sheet(kind).title,
        sheet=care_sheet(kind),
        kinds=CARE_KINDS,
        client=client,
    )
