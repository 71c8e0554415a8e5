"""Downloads from the pages: a client's full export from her page (clinical staff), and the
clinic's tables as CSV from the clinic settings (the owner). Both are GETs that change nothing
but the audit log, so no form token is needed to follow them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from microamp.errors import InvalidValue
from microamp.web.deps import DbDep, PageUser, RowId
from microamp.web.downloads import archive_download, csv_download

router = APIRouter()


def _day(field: str, raw: str) -> date | None:
    """A day typed in a date field; empty is no bound."""
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidValue(field, raw, "a day as YYYY-MM-DD") from None


@router.get("/clients/{client_id}/export.zip")
def client_export(user: PageUser, db: DbDep, client_id: RowId) -> StreamingResponse:
    return archive_download(db, user, client_id, via="page")


@router.get("/settings/exports.csv")
def table_csv(
    user: PageUser,
    db: DbDep,
    table: str = "",
    first: Annotated[str, Query(alias="from")] = "",
    last: Annotated[str, Query(alias="to")] = "",
) -> StreamingResponse:
    return csv_download(db, user, table, _day("from", first), _day("to", last), via="page")
