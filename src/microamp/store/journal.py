"""The recorder's journal: what a session could not write to the store, kept on local disk
until the store takes it.

A station that loses its link to the store stops output (it can no longer hear Stop), but its
session still emits events (the stop itself, the end) and telemetry. `SessionRecorder` then
appends each write it could not commit to an append-only file next to the station,
``<data_dir>/journal/session-<id>.jsonl``, one JSON line per write, flushed and fsync'd
before the call returns, and keeps journaling (order matters) until the link returns. Then
`hand_over` writes the whole file in one transaction and removes it:

    hand_over_all(store)   # whatever journals this data directory holds; the written ids

Every row is keyed by (session, sequence number), so a hand-over repeated after a crash
between its commit and the file's removal writes nothing twice. A record that another process
closed meanwhile (its lease lapsed: ``interrupted``) keeps its status; journaled events whose
sequence number that close took are appended after it, once.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, func, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from microamp.store.book import complete_for_session
from microamp.store.db import Store
from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession

__all__ = ["Journal", "hand_over", "hand_over_all", "journal_dir", "journal_path"]

_EVENTS = cast(Table, SessionEvent.__table__)
_CHUNKS = cast(Table, TelemetryChunk.__table__)
_SESSIONS = cast(Table, TreatmentSession.__table__)
_BYTES = "__bytes__"
_TIME = "__datetime__"
_log = logging.getLogger(__name__)


def journal_dir(store: Store) -> Path:
    """Where this data directory's journals are."""
    return Path(store.settings.data_dir) / "journal"


def journal_path(store: Store, session_id: int) -> Path:
    return journal_dir(store) / f"session-{session_id}.jsonl"


class Journal:
    """One session's journal file. `pending` while it holds writes not yet handed over."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def pending(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, unit: Mapping[str, Any]) -> None:
        """Add one write (a unit the store would have committed as one transaction) and fsync
        it: once this returns, a power cut does not lose it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(_encode(unit), separators=(",", ":")) + "\n"
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())

    def units(self) -> list[dict[str, Any]]:
        """Every write in the order it was made; a last line cut short by a crash is left out
        (its write never returned, so nothing depended on it)."""
        if not self.path.exists():
            return []
        units = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                units.append(_decode(json.loads(line)))
            except json.JSONDecodeError:
                continue
        return units


def hand_over(store: Store, path: Path) -> int:
    """Write the journal at ``path`` to the store in one transaction, then remove it; the number
    of writes it held. Raises SQLAlchemy's errors while the store is still out of reach (the
    journal is kept)."""
    journal = Journal(path)
    units = journal.units()
    if units:
        with store.engine.begin() as connection:
            for unit in units:
                _replay(connection, unit)
        _complete_appointments(store, {int(unit["record_id"]) for unit in units})
    path.unlink(missing_ok=True)
    return len(units)


def _complete_appointments(store: Store, record_ids: Collection[int]) -> None:
    """A record whose end was journaled completes its appointment at the hand-over, as it
    would have when it ended (`complete_for_session` acts only on one still in treatment)."""
    with store.transaction() as session:
        for record_id in sorted(record_ids):
            status = session.scalar(select(_SESSIONS.c.status).where(_SESSIONS.c.id == record_id))
            if status == "completed":
                complete_for_session(session, treatment_session_id=record_id)


def hand_over_all(store: Store, *, busy: Collection[int] = ()) -> list[int]:
    """Hand over every journal of this data directory but those of the records in ``busy``
    (sessions still under way, still appending); the session ids written. Raises SQLAlchemy's
    `OperationalError` while the store is out of reach; a journal the store refuses for its
    content is renamed ``*.refused`` and logged."""
    directory = journal_dir(store)
    if not directory.is_dir():
        return []
    written = []
    for path in sorted(directory.glob("session-*.jsonl")):
        record_id = int(path.stem.removeprefix("session-"))
        if record_id in busy:
            continue
        try:
            hand_over(store, path)
        except (OperationalError, InterfaceError):
            raise  # still out of reach: the journal waits
        except SQLAlchemyError as exc:
            # refused for what it holds, not for the link: set aside (kept, never lost), so
            # it does not block every later hand-over
            aside = path.with_suffix(".refused")
            path.rename(aside)
            _log.error("the journal of record %s was refused (%s); kept as %s",
                       record_id, exc, aside)  # fmt: skip
            continue
        written.append(record_id)
    return written


def _replay(connection: Connection, unit: Mapping[str, Any]) -> None:
    record_id = int(unit["record_id"])
    for chunk in unit.get("chunks", ()):
        exists = connection.execute(
            select(_CHUNKS.c.id).where(
                _CHUNKS.c.session_id == record_id, _CHUNKS.c.seq == chunk["seq"]
            )
        ).first()
        if exists is None:
            connection.execute(insert(_CHUNKS), dict(chunk))
    for event in unit.get("events", ()):
        _replay_event(connection, record_id, dict(event))
    touch = dict(unit.get("touch", {}))
    if touch:
        touch.pop("event_count", None)
        connection.execute(
            update(_SESSIONS)
            .where(_SESSIONS.c.id == record_id, _SESSIONS.c.status == "running")
            .values(**touch)
        )
    last = connection.execute(
        select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.session_id == record_id)
    ).scalar()
    connection.execute(
        update(_SESSIONS)
        .where(_SESSIONS.c.id == record_id)
        .values(event_count=0 if last is None else int(last) + 1)
    )
    summary = unit.get("summary")
    if isinstance(summary, Mapping):
        _replay_summary(connection, record_id, summary)


def _replay_event(connection: Connection, record_id: int, event: dict[str, Any]) -> None:
    """Insert ``event`` at its sequence number; if another process took that number (it closed
    the record meanwhile), after the last event, unless that was done already."""
    at = connection.execute(
        select(_EVENTS.c.kind, _EVENTS.c.t_s).where(
            _EVENTS.c.session_id == record_id, _EVENTS.c.seq == event["seq"]
        )
    ).first()
    if at is None:
        connection.execute(insert(_EVENTS), event)
        return
    if at.kind == event["kind"] and at.t_s == event["t_s"]:
        return  # written before: by the write whose answer was lost, or an earlier hand-over
    later = connection.execute(
        select(_EVENTS.c.id).where(
            and_(
                _EVENTS.c.session_id == record_id,
                _EVENTS.c.seq > event["seq"],
                _EVENTS.c.kind == event["kind"],
                _EVENTS.c.t_s == event["t_s"],
            )
        )
    ).first()
    if later is not None:
        return
    last = connection.execute(
        select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.session_id == record_id)
    ).scalar()
    moved = {**event, "seq": int(last or 0) + 1}
    moved["data"] = {**event["data"], "journaled_seq": event["seq"]}
    connection.execute(insert(_EVENTS), moved)


def _replay_summary(connection: Connection, record_id: int, summary: Mapping[str, Any]) -> None:
    row = connection.execute(
        select(_SESSIONS.c.status, _SESSIONS.c.delivered_settings).where(
            _SESSIONS.c.id == record_id
        )
    ).first()
    if row is None or row.status == "running":
        return
    values: dict[str, Any] = {}
    if isinstance(summary.get("dose_by_zone"), Mapping):
        values["dose_by_zone"] = summary["dose_by_zone"]
    extra = summary.get("extra")
    if isinstance(extra, Mapping) and extra:
        values["delivered_settings"] = {**(row.delivered_settings or {}), **extra}
    if values:
        connection.execute(update(_SESSIONS).where(_SESSIONS.c.id == record_id).values(**values))


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return {_TIME: value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        if set(value) == {_TIME}:
            return datetime.fromisoformat(value[_TIME])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
