"""Exports: a client's full record as one ZIP archive (her subject access request), and the
clinic's tables as CSV for its own analysis. Every export is audited as the read it is."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from microamp.store.csv_exports import CsvTable
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId
from microamp.web.downloads import archive_download, csv_download

router = APIRouter(tags=["exports"])

_ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The archive: record.json, fhir-bundle.json, consents/*.pdf, photos/*, "
        "charts/*.svg and index.html",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The table as CSV with a header row",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/clients/{client_id}/export",
    response_class=StreamingResponse,
    responses=_ZIP | invalid("`client_id` is not a whole number from 1 to 2147483647"),
)
def client_export(user: ApiUser, db: DbDep, client_id: RowId) -> StreamingResponse:
    """Everything held on the client in one ZIP archive: her record as JSON, her FHIR Bundle,
    her signed consents as PDF, her photos, her session charts and a summary page."""
    return archive_download(db, user, client_id, via="api")


@router.get(
    "/exports/{table}.csv",
    response_class=StreamingResponse,
    responses=_CSV
    | invalid(
        "`table` is not clients, appointments, sessions or dose; `from` or `to` is not a "
        "day, or `to` is before `from`"
    ),  # fmt: skip
)
def table_csv(
    user: ApiUser,
    db: DbDep,
    table: CsvTable,
    first: Annotated[
        date | None, Query(alias="from", description="The first day (included).")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="The last day (included).")] = None,
) -> StreamingResponse:
    """One table as CSV: clients (by the day added), appointments (by their day), sessions and
    the dose by zone, one row per session per zone (by the day the session started)."""
    return csv_download(db, user, table, first, last, via="api")
