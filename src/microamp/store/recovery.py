"""Recovery: a ``running`` record whose recorder is gone becomes ``interrupted``.

On this host a recorder is gone when its process no longer exists; a record written from
another host is judged by its last write, older than ``stale_after_s``. Every event already
committed stays; one ``interrupted`` event is appended so the record says what happened, and the
dose and settings are derived from the committed events, as the recorder itself would have.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.store.base import utc_now
from microamp.store.derived import delivered_from_events, dose_from_events
from microamp.store.session_models import SessionEvent, TreatmentSession

__all__ = ["interrupt_record", "process_alive", "recover_interrupted"]


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # The state follows the parenthesised command name: "Z" is a zombie, already dead.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _recorder_gone(
    record: TreatmentSession, *, host: str, now: datetime, stale_after_s: float
) -> bool:
    if record.recorder_host == host and record.recorder_pid is not None:
        return not process_alive(record.recorder_pid)
    return now - record.last_write_at > timedelta(seconds=stale_after_s)


def recover_interrupted(
    session: Session,
    *,
    stale_after_s: float = 300.0,
    now: datetime | None = None,
    host: str | None = None,
) -> list[int]:
    """Mark every orphaned ``running`` record ``interrupted``; returns their ids.

    The caller commits. The status change is compare-and-set on ``running``, so two
    processes recovering at once cannot both append the closing event.
    """
    now = now or utc_now()
    host = host or socket.gethostname()
    running = session.scalars(
        select(TreatmentSession).where(TreatmentSession.status == "running").with_for_update()
    ).all()
    recovered = []
    for record in running:
        if _recorder_gone(record, host=host, now=now, stale_after_s=stale_after_s):
            _close_as_interrupted(session, record, now=now)
            recovered.append(record.id)
    session.flush()
    return recovered


def interrupt_record(session: Session, record_id: int, *, now: datetime, reason: str) -> bool:
    """Close record ``record_id`` as ``interrupted`` if it is still ``running``; whether it was.

    The caller commits. Used when a session's device lease lapsed and another holder took the
    device: the old session cannot be running any more, whatever its process believes.
    """
    record = session.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.id == record_id, TreatmentSession.status == "running")
        .with_for_update()
    ).first()
    if record is None:
        return False
    _close_as_interrupted(session, record, now=now, reason=reason)
    session.flush()
    return True


_RECORDER_GONE = "the recording process ended before the session did"


def _close_as_interrupted(
    session: Session, record: TreatmentSession, *, now: datetime, reason: str = _RECORDER_GONE
) -> None:
    events = [
        (e.kind, e.t_s, e.data)
        for e in session.scalars(
            select(SessionEvent)
            .where(SessionEvent.session_id == record.id)
            .order_by(SessionEvent.seq)
        )
    ]
    last_t_s = max((t_s for _kind, t_s, _data in events), default=0.0)
    record.dose_by_zone = dose_from_events(events)
    record.delivered_settings = delivered_from_events(events)
    session.add(
        SessionEvent(
            session_id=record.id,
            seq=record.event_count,
            kind="interrupted",
            t_s=float(last_t_s),
            data={
                "reason": reason,
                "recorder_host": record.recorder_host,
                "recorder_pid": record.recorder_pid,
            },
            recorded_at=now,
        )
    )
    record.event_count += 1
    record.status = "interrupted"
    record.ended_at = record.last_write_at
    record.last_write_at = now
