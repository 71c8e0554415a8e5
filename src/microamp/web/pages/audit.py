"""The owner's audit page: the log filtered by client, user, action and date range, a page at a
time, whether the chain holds, and the filtered rows as CSV. Reading the audit log is itself
audited.

A view checks the chain from the latest signed checkpoint on (`verify_since_checkpoint`), so it
costs the rows written since then, not the whole log, and says which rows it walked and which the
checkpoint vouches for; ``?check=full`` walks every row and every checkpoint line, as
``microamp audit verify`` does."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.access import AUDIT_ACTIONS, SECURITY_ACTIONS, AuditEntry
from microamp.store.audit_checkpoints import (
    ChainReport,
    search_audit,
    verify_since_checkpoint,
    verify_with_checkpoints,
)
from microamp.web.deps import MAX_ROW_ID, DbDep, PageUser, StoreDep, audit
from microamp.web.render import page

router = APIRouter()

PAGE_ROWS = 50
CSV_MAX_ROWS = 100_000
_Text = Annotated[str, Query(max_length=254)]


@dataclass(frozen=True, slots=True)
class Filters:
    client: int | None
    actor: str
    action: str
    since: date | None
    until: date | None

    def search(self) -> dict[str, Any]:
        return {"client_id": self.client, "actor": self.actor or None,
                "action": self.action or None, "since": self.since, "until": self.until}  # fmt: skip


def _day(field: str, raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(field, raw, "must be a date (YYYY-MM-DD)") from None


def _filters(client: str, actor: str, action: str, since: str, until: str) -> Filters:
    client_id = None
    if client:
        if not client.isdigit() or not 1 <= int(client) <= MAX_ROW_ID:
            raise InvalidValue("client", client, "must be a client number")
        client_id = int(client)
    if action and action not in AUDIT_ACTIONS and action not in SECURITY_ACTIONS:
        raise InvalidValue("action", action, "must be one of the listed actions")
    return Filters(client_id, actor.strip(), action, _day("since", since), _day("until", until))


@router.get("/audit")
def audit_page(
    request: Request, owner: PageUser, db: DbDep, store: StoreDep,
    client: _Text = "", actor: _Text = "", action: _Text = "", since: _Text = "",
    until: _Text = "", offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    check: Annotated[Literal["", "full"], Query()] = "",
) -> Response:  # fmt: skip
    typed = {"client": client, "actor": actor, "action": action, "since": since, "until": until}
    report = _chain_report(db, store.settings.audit_checkpoints_path, full=check == "full")
    try:
        filters = _filters(client, actor, action, since, until)
        rows, total = search_audit(db, **filters.search(), offset=offset, limit=PAGE_ROWS)
    except InvalidValue as exc:
        return _render(request, owner, report, typed, [], 0, offset, error=exc, status_code=422)
    audit(db, owner, "read", "audit", client_id=filters.client, rows=len(rows))
    return _render(request, owner, report, typed, rows, total, offset)


def _chain_report(db: Session, checkpoints: Path, *, full: bool) -> ChainReport:
    if full:
        return verify_with_checkpoints(db, checkpoints)
    return verify_since_checkpoint(db, checkpoints)


def _render(
    request: Request, owner: Any, report: ChainReport, typed: dict[str, str],
    rows: list[AuditEntry], total: int, offset: int, *, error: InvalidValue | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    query = urlencode({k: v for k, v in typed.items() if v})
    return page(
        request, "audit.html", owner, title="Audit log", rows=rows, total=total, offset=offset,
        page_rows=PAGE_ROWS, typed=typed, actions=(*AUDIT_ACTIONS, *SECURITY_ACTIONS),
        report=report, query=query, error=error, status_code=status_code,
    )  # fmt: skip


@router.get("/audit.csv")
def audit_export(
    owner: PageUser, db: DbDep,
    client: _Text = "", actor: _Text = "", action: _Text = "", since: _Text = "",
    until: _Text = "",
) -> Response:  # fmt: skip
    filters = _filters(client, actor, action, since, until)
    rows, _total = search_audit(db, **filters.search(), limit=CSV_MAX_ROWS)
    audit(db, owner, "read", "audit", client_id=filters.client, rows=len(rows), format="csv")
    return Response(
        _csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="audit.csv"',
            "Cache-Control": "no-store",
        },  # fmt: skip
    )


def _csv(rows: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "at", "actor", "action", "resource", "client_id", "detail", "seal"])
    for row in rows:
        detail = ";".join(f"{k}={v}" for k, v in sorted(row.detail.items()))
        writer.writerow([row.seq, row.at.isoformat(timespec="milliseconds"), _cell(row.actor),
                         row.action, _cell(row.resource), row.client_id or "", _cell(detail),
                         row.hash])  # fmt: skip
    return out.getvalue()


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
