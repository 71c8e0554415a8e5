"""Treatment-session records: read them, refuse them, add the client's feedback.

Recording while a session runs is `microamp.store.recording.SessionRecorder`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, StoreError
from microamp.store.base import utc_now
from microamp.store.crud import get_or_404
from microamp.store.session_models import SessionEvent, TreatmentSession
from microamp.store.telemetry import CODEC, COLUMNS, Rows, columns_of, unpack_rows
from microamp.store.visit_steps import record_step_views

__all__ = [
    "controls_of",
    "delivered_of",
    "get_session_record",
    "level_in_force",
    "list_session_records",
    "record_refusal",
    "session_record_dict",
    "session_telemetry",
    "set_feedback",
]


def get_session_record(session: Session, *, session_id: int) -> TreatmentSession:
    return get_or_404(session, TreatmentSession, session_id)


def list_session_records(
    session: Session, *, client_id: int | None = None, limit: int = 50, offset: int = 0
) -> list[TreatmentSession]:
    """The most recent records first, of one client or of all: ``limit`` of them after the
    ``offset`` most recent."""
    query = (
        select(TreatmentSession).order_by(TreatmentSession.id.desc()).limit(limit).offset(offset)
    )
    if client_id is not None:
        query = query.where(TreatmentSession.client_id == client_id)
    return list(session.scalars(query))


def record_refusal(
    session: Session,
    *,
    protocol_name: str,
    reasons: Iterable[str],
    client_id: int | None = None,
    practitioner_id: int | None = None,
    device_url: str = "",
    protocol_version: str = "",
    protocol_hash: str = "",
) -> TreatmentSession:
    """A record of a session refused before any current flowed, and why."""
    why = list(reasons)
    if not why:
        raise InvalidValue("reasons", why, "a refusal needs at least one reason")
    now = utc_now()
    record = TreatmentSession(
        client_id=client_id,
        practitioner_id=practitioner_id,
        protocol_name=protocol_name,
        protocol_version=protocol_version,
        protocol_hash=protocol_hash,
        device_url=device_url,
        status="refused",
        started_at=now,
        ended_at=now,
        last_write_at=now,
        refusal_reasons=why,
        event_count=1,
    )
    session.add(record)
    session.flush()
    session.add(
        SessionEvent(session_id=record.id, seq=0, kind="refused", t_s=0.0, data={"reasons": why})
    )
    session.flush()
    return record


def set_feedback(
    session: Session,
    *,
    session_id: int,
    comfort: int | None = None,
    tingling: bool | None = None,
    metallic_taste: bool | None = None,
    redness: bool | None = None,
    notes: str | None = None,
) -> TreatmentSession:
    """The client's feedback after a session: comfort 0-10 (10 most comfortable) and what
    they felt. Only the values given are changed."""
    record = get_session_record(session, session_id=session_id)
    if record.status == "running":
        raise StoreError(f"session {session_id} is still running")
    if comfort is not None:
        if isinstance(comfort, bool) or not 0 <= comfort <= 10:
            raise InvalidValue("comfort", comfort, "must be a whole number 0-10")
        record.feedback_comfort = comfort
    if tingling is not None:
        record.feedback_tingling = tingling
    if metallic_taste is not None:
        record.feedback_metallic_taste = metallic_taste
    if redness is not None:
        record.feedback_redness = redness
    if notes is not None:
        record.notes = notes
    session.flush()
    return record


def session_telemetry(session: Session, *, session_id: int) -> Rows:
    """Every stored telemetry row of a session, columns as `COLUMNS`, in time order."""
    record = get_session_record(session, session_id=session_id)
    parts = []
    for chunk in record.chunks:
        if chunk.codec != CODEC:
            raise StoreError(f"telemetry chunk {chunk.id} uses an unknown codec {chunk.codec!r}")
        parts.append(unpack_rows(chunk.data, chunk.rows, len(chunk.columns)))
    if not parts:
        return np.empty((0, len(COLUMNS)))
    return np.concatenate(parts)


def session_record_dict(
    session: Session, *, session_id: int, include_telemetry: bool = False
) -> dict[str, Any]:
    """A record as one JSON document (``microamp records show --json``)."""
    record = get_session_record(session, session_id=session_id)
    document: dict[str, Any] = {
        "id": record.id,
        "status": record.status,
        "client_id": record.client_id,
        "practitioner_id": record.practitioner_id,
        "protocol": {
            "name": record.protocol_name,
            "version": record.protocol_version,
            "hash": record.protocol_hash,
        },
        "device": {"url": record.device_url, "capabilities": record.device_capabilities},
        "started_at": record.started_at.isoformat(),
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "duration_s": (record.ended_at - record.started_at).total_seconds()
        if record.ended_at
        else None,
        "avoid_zones": record.avoid_zones,
        "personalisation": record.personalisation,
        "refusal_reasons": record.refusal_reasons,
        "dose_by_zone": record.dose_by_zone,
        "delivered_settings": record.delivered_settings,
        "notes": record.notes,
        "feedback": {
            "comfort": record.feedback_comfort,
            "tingling": record.feedback_tingling,
            "metallic_taste": record.feedback_metallic_taste,
            "redness": record.feedback_redness,
        },
        "events": [{"seq": e.seq, "kind": e.kind, "t_s": e.t_s, **e.data} for e in record.events],
        "telemetry": _telemetry_summary(record),
        "controls": controls_of(record.events),
        "level": level_in_force(record.events),
        # the manual steps of the visit it was run for, the microcurrent step among them
        "service_steps": [v.as_dict() for v in record_step_views(session, record_id=record.id)],
    }
    rows = session_telemetry(session, session_id=session_id)
    document["delivered"] = delivered_of(rows)
    if include_telemetry:
        document["telemetry"]["rows"] = columns_of(rows)
    return document


_COL = {name: i for i, name in enumerate(COLUMNS)}
# Current above this (µA, mean absolute over a row) counts as output on, for the mean while on.
_ON_UA = 1.0


def delivered_of(rows: Rows) -> dict[str, float | None]:
    """What the stored telemetry says was delivered: the true peak (the largest ``peak_ua`` of
    any row), the mean absolute current while output was on, and the time it was on (µA, s)."""
    if rows.shape[0] == 0:
        return {"peak_ua": None, "mean_ua": None, "on_s": 0.0}
    peak = rows[:, _COL["peak_ua"]]
    mean = rows[:, _COL["delivered_ua"]]
    on = np.isfinite(mean) & (mean > _ON_UA)
    finite_peak = peak[np.isfinite(peak)]
    dt = np.diff(rows[:, _COL["t_s"]], prepend=rows[0, _COL["t_s"]])
    return {
        "peak_ua": float(finite_peak.max()) if finite_peak.size else None,
        "mean_ua": float(mean[on].mean()) if on.any() else None,
        "on_s": float(dt[on].sum()),
    }


_CONTROL_KINDS = ("paused", "resumed", "intensity_changed")


def controls_of(events: Iterable[SessionEvent]) -> list[dict[str, Any]]:
    """Every operator control in the record, in order: what it did, when, the level it left in
    force, and who did it (``operator`` None when the control did not say)."""
    controls: list[dict[str, Any]] = []
    for event in events:
        data = event.data
        stopped = event.kind == "ended" and data.get("status") == "stopped"
        if event.kind not in _CONTROL_KINDS and not stopped:
            continue
        operator = data.get("operator")
        controls.append(
            {
                "t_s": event.t_s,
                "control": "stopped" if stopped else event.kind,
                "level": data.get("level"),
                "amplitude_ua": data.get("amplitude_ua"),
                "operator": operator if isinstance(operator, dict) else None,
            }
        )
    return controls


def level_in_force(events: Iterable[SessionEvent]) -> float | None:
    """The session's level at its end: the start level, then each change the operator made."""
    level: float | None = None
    for event in events:
        value = event.data.get("level" if event.kind == "intensity_changed" else "intensity")
        if event.kind in ("started", "intensity_changed") and isinstance(value, int | float):
            level = float(value)
    return level


def _telemetry_summary(record: TreatmentSession) -> dict[str, Any]:
    return {
        "frames_received": record.telemetry_frames,
        "rows_stored": sum(c.rows for c in record.chunks),
        "chunks": len(record.chunks),
        "bytes": sum(len(c.data) for c in record.chunks),
        "columns": list(COLUMNS),
    }
