"""A session record: dose by zone, charts from stored telemetry, events, notes, feedback."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from microamp.store.crud import get_client
from microamp.store.models import User
from microamp.store.records import get_session_record, session_telemetry, set_feedback
from microamp.store.telemetry import COLUMNS, Rows
from microamp.web.charts import Series, series_svg
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])
_CHART_POINTS = 600


def _charts(rows: Rows) -> str:
    if rows.shape[0] > _CHART_POINTS:
        rows = rows[:: rows.shape[0] // _CHART_POINTS + 1]
    col = {name: rows[:, i] for i, name in enumerate(COLUMNS)}
    impedance = np.where(np.isfinite(col["impedance_ohm"]), col["impedance_ohm"] / 1000, np.nan)
    return series_svg(
        col["t_s"].tolist(),
        [
            Series("delivered", "µA", col["delivered_ua"].tolist(), "#2c6e68"),
            Series("impedance", "kΩ", impedance.tolist(), "#c2410c"),
        ],
    )


@router.get("/records/{record_id}")
def record(request: Request, user: PageUser, db: DbDep, record_id: RowId) -> Response:
    row = get_session_record(db, session_id=record_id)
    client = get_client(db, client_id=row.client_id) if row.client_id else None
    practitioner = db.get(User, row.practitioner_id) if row.practitioner_id else None
    dose = sorted(row.dose_by_zone.values(), key=lambda d: -(d.get("charge_uc") or 0))
    top = max((d.get("charge_uc") or 0 for d in dose), default=0) or 1
    chart = _charts(session_telemetry(db, session_id=record_id))
    audit(db, user, "read", f"record:{record_id}", client_id=row.client_id)
    return page(
        request,
        "record.html",
        user,
        title=f"Session record {record_id}",
        record=row,
        client=client,
        practitioner=practitioner,
        dose=dose,
        dose_top=top,
        total_charge=sum(d.get("charge_uc") or 0 for d in dose),
        total_stim=sum(d.get("stimulation_s") or 0 for d in dose),
        chart=chart,
    )


@router.post("/records/{record_id}/feedback")
def feedback(
    user: PageUser,
    db: DbDep,
    record_id: RowId,
    comfort: Annotated[int | None, Form(ge=0, le=10)] = None,
    tingling: Annotated[bool, Form()] = False,
    metallic_taste: Annotated[bool, Form()] = False,
    redness: Annotated[bool, Form()] = False,
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    row = set_feedback(
        db,
        session_id=record_id,
        comfort=comfort,
        tingling=tingling,
        metallic_taste=metallic_taste,
        redness=redness,
        notes=notes,
    )
    audit(db, user, "write", f"record:{record_id}/feedback", client_id=row.client_id)
    return RedirectResponse(f"/records/{record_id}#feedback-title", status_code=303)
