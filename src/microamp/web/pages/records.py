"""A session record: dose by zone, charts from stored telemetry, events, notes, feedback."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book_setup import get_settings
from microamp.store.crud import get_client
from microamp.store.models import User
from microamp.store.records import (
    controls_of,
    delivered_of,
    get_session_record,
    level_in_force,
    session_telemetry,
    set_feedback,
)
from microamp.store.skin import list_note_templates
from microamp.store.telemetry import COLUMNS, Rows
from microamp.store.visit_steps import record_step_views
from microamp.web.charts import Series, series_svg
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import field_errors
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])
_CHART_POINTS = 600
_FEEDBACK_LABELS = {"comfort": "Comfort", "notes": "Notes"}


def _bucketed(rows: Rows, points: int) -> dict[str, NDArray[np.float64]]:
    """At most ``points`` rows: the peak keeps each bucket's maximum (so the chart's peak is the
    record's true peak), the mean current and impedance their bucket's mean."""
    col = {name: rows[:, i] for i, name in enumerate(COLUMNS)}
    if rows.shape[0] <= points:
        return col
    starts = np.arange(0, rows.shape[0], -(-rows.shape[0] // points))

    def reduce(values: NDArray[np.float64], how: str) -> NDArray[np.float64]:
        finite = np.isfinite(values)
        if how == "max":
            top = np.maximum.reduceat(np.where(finite, values, -np.inf), starts)
            return np.where(np.isfinite(top), top, np.nan)
        sums = np.add.reduceat(np.where(finite, values, 0.0), starts)
        n = np.add.reduceat(finite.astype(np.int64), starts)
        return np.where(n > 0, sums / np.maximum(n, 1), np.nan)

    return {
        "t_s": col["t_s"][starts],
        "peak_ua": reduce(col["peak_ua"], "max"),
        "delivered_ua": reduce(col["delivered_ua"], "mean"),
        "impedance_ohm": reduce(col["impedance_ohm"], "mean"),
    }


def _charts(rows: Rows) -> str:
    col = _bucketed(rows, _CHART_POINTS)
    impedance = np.where(np.isfinite(col["impedance_ohm"]), col["impedance_ohm"] / 1000, np.nan)
    return series_svg(
        col["t_s"].tolist(),
        [
            Series("peak delivered", "µA", np.maximum(col["peak_ua"], 0.0).tolist(), "#2c6e68"),
            Series("mean delivered", "µA", np.maximum(col["delivered_ua"], 0.0).tolist(),
                   "#7aa9a3"),
            Series("impedance", "kΩ", impedance.tolist(), "#c2410c"),
        ],
    )  # fmt: skip


@router.get("/records/{record_id}")
def record(request: Request, user: PageUser, db: DbDep, record_id: RowId) -> Response:
    return _record_page(request, user, db, record_id)


def _record_page(
    request: Request, user: User, db: Session, record_id: int, **extra: Any
) -> Response:
    row = get_session_record(db, session_id=record_id)
    client = get_client(db, client_id=row.client_id) if row.client_id else None
    practitioner = db.get(User, row.practitioner_id) if row.practitioner_id else None
    dose = sorted(row.dose_by_zone.values(), key=lambda d: -(d.get("charge_uc") or 0))
    top = max((d.get("charge_uc") or 0 for d in dose), default=0) or 1
    rows = session_telemetry(db, session_id=record_id)
    chart = _charts(rows)
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
        delivered=delivered_of(rows),
        controls=controls_of(row.events),
        level=level_in_force(row.events),
        started=next((e.data for e in row.events if e.kind == "started"), {}),
        note_templates=list_note_templates(db),
        service_steps=record_step_views(db, record_id=record_id),
        zone=clinic_zone(get_settings(db).time_zone),
        **extra,
    )


def _comfort(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidValue("comfort", raw, "must be a whole number 0-10") from None


@router.post("/records/{record_id}/feedback")
def feedback(
    request: Request,
    user: PageUser,
    db: DbDep,
    record_id: RowId,
    comfort: Annotated[str, Form(max_length=20)] = "",
    tingling: Annotated[bool, Form()] = False,
    metallic_taste: Annotated[bool, Form()] = False,
    redness: Annotated[bool, Form()] = False,
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        row = set_feedback(
            db,
            session_id=record_id,
            comfort=_comfort(comfort),
            tingling=tingling,
            metallic_taste=metallic_taste,
            redness=redness,
            notes=notes,
        )
    except InvalidValue as exc:
        db.rollback()
        typed = {"comfort": comfort, "tingling": tingling, "metallic_taste": metallic_taste,
                 "redness": redness, "notes": notes}  # fmt: skip
        errors = field_errors(exc, _FEEDBACK_LABELS)
        return _record_page(request, user, db, record_id, errors=errors, typed=typed,
                            status_code=422)  # fmt: skip
    audit(db, user, "write", f"record:{record_id}/feedback", client_id=row.client_id)
    return RedirectResponse(f"/records/{record_id}#feedback-title", status_code=303)
