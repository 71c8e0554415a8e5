"""Session records: the list, one record as a JSON document, the client's feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from microamp.store.records import list_session_records, session_record_dict, set_feedback
from microamp.web.api.models import Feedback, RecordSummary
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, RowIdQuery, audit

router = APIRouter(tags=["records"])


@router.get("/records", responses=invalid("`client_id` is out of range, or `limit` is not 1-500"))
def records(
    user: ApiUser,
    db: DbDep,
    client_id: RowIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RecordSummary]:
    rows = list_session_records(db, client_id=client_id, limit=limit)
    out = [
        RecordSummary(
            id=r.id,
            client_id=r.client_id,
            protocol=r.protocol_name,
            status=r.status,
            started_at=r.started_at,
            ended_at=r.ended_at,
            delivered_charge_uc=sum(
                float(d.get("charge_uc") or 0) for d in r.dose_by_zone.values()
            ),
        )
        for r in rows
    ]
    audit(db, user, "read", "records", client_id=client_id, count=len(out))
    return out


@router.get(
    "/records/{record_id}",
    responses=invalid("`record_id` is out of range, or `telemetry` is not true or false"),
)
def record(user: ApiUser, db: DbDep, record_id: RowId, telemetry: bool = False) -> dict[str, Any]:
    """The record as `microamp records show --json` prints it."""
    document = session_record_dict(db, session_id=record_id, include_telemetry=telemetry)
    audit(db, user, "read", f"record:{record_id}", client_id=document["client_id"])
    return document


@router.post(
    "/records/{record_id}/feedback",
    responses=invalid(
        "`record_id` is out of range, `comfort` is not 0-10, or a note is over its length"
    ),
)
def feedback(user: ApiUser, db: DbDep, record_id: RowId, body: Feedback) -> dict[str, Any]:
    row = set_feedback(db, session_id=record_id, **body.model_dump())
    audit(db, user, "write", f"record:{record_id}/feedback", client_id=row.client_id)
    return session_record_dict(db, session_id=record_id)
