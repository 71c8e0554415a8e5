"""The audit log for the owner: the rows, filtered and paginated, and whether the chain holds.
Reading the audit log is itself audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from microamp.store.audit_checkpoints import search_audit, verify_with_checkpoints
from microamp.web.api.responses import invalid
from microamp.web.deps import MAX_ROW_ID, ApiUser, DbDep, RowIdQuery, StoreDep, audit

router = APIRouter(tags=["audit"])


class AuditRow(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    resource: str
    client_id: int | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    total: int
    offset: int
    limit: int
    rows: list[AuditRow]


class AuditVerify(BaseModel):
    intact: bool
    rows: int
    broken_seq: int | None
    reason: str
    legacy_rows: int
    checkpoints: int


@router.get(
    "/audit",
    responses=invalid(
        "`client` or `offset` is out of range, `limit` is not 1-500, `since` or `until` is not a date, or `since` is after `until`"
    ),
)
def audit_rows(
    user: ApiUser,
    db: DbDep,
    client: RowIdQuery = None,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> AuditPage:
    rows, total = search_audit(db, client_id=client, actor=actor, action=action, since=since,
                               until=until, offset=offset, limit=limit)  # fmt: skip
    page = AuditPage(total=total, offset=offset, limit=limit, rows=[
        AuditRow(seq=r.seq, at=r.at, actor=r.actor, action=r.action, resource=r.resource,
                 client_id=r.client_id, detail=dict(r.detail)) for r in rows])  # fmt: skip
    audit(db, user, "read", "audit", client_id=client, rows=len(rows))
    return page


@router.get("/audit/verify")
def audit_verify(user: ApiUser, db: DbDep, store: StoreDep) -> AuditVerify:
    report = verify_with_checkpoints(db, store.settings.audit_checkpoints_path)
    verdict = report.chain
    answer = AuditVerify(intact=report.intact, rows=verdict.rows, broken_seq=verdict.broken_seq,
                         reason=verdict.reason or report.problem, legacy_rows=verdict.legacy_rows,
                         checkpoints=report.checkpoints)  # fmt: skip
    audit(db, user, "read", "audit/verify", intact=report.intact)
    return answer
