"""`SessionRecorder`: writes a treatment-session record while the session runs.

Give it to the session runner as a subscriber. It accepts events (plain dicts with ``kind`` and
``t_s``, or objects with ``to_dict()``) and telemetry frames (`TelemetryFrame` or its dict):

    recorder = SessionRecorder.start(store, protocol_name="lift", device_url="sim://",
                                     client_id=client.id, avoid_zones=decision.avoid_zones)
    runner.subscribe(recorder)             # events: recorder(event)
    runner.subscribe_telemetry(recorder)   # frames: recorder(frame)
    summary = runner.run()                 # the ``ended`` event closes the record by itself
    record_summary(store, session_id=recorder.session_id, summary=summary)

Each event is committed in its own short transaction, so whatever kills the process, the record
holds every event emitted before; recovery then marks it ``interrupted``. Telemetry is buffered
and flushed as compressed chunks every ``telemetry_flush_s`` of device time.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, StoreError
from microamp.store.base import utc_now
from microamp.store.book import complete_for_session, link_session
from microamp.store.db import Store
from microamp.store.derived import RELEVANT_KINDS, delivered_from_events, dose_from_events
from microamp.store.journal import Journal, journal_path
from microamp.store.session_models import (
    TERMINAL_STATUSES,
    SessionEvent,
    TelemetryChunk,
    TreatmentSession,
)
from microamp.store.telemetry import CODEC, COLUMNS, TelemetryBuffer

__all__ = [
    "END_KINDS",
    "SessionRecorder",
    "event_dict",
    "json_safe",
    "record_summary",
    "summary_values",
]

# An event of one of these kinds ends the session; its ``status`` (or its kind, when the kind is
# itself a status such as ``completed``) is the record's final status. ``refused`` is not among
# them: the runner follows a refusal with its ``ended`` event.
_STATUS_KINDS = frozenset({"completed", "stopped", "aborted"})
END_KINDS = frozenset({"ended", "session_ended", "finished"}) | _STATUS_KINDS
_SESSIONS = cast(Table, TreatmentSession.__table__)
_INSERT_EVENT = insert(cast(Table, SessionEvent.__table__))
_INSERT_CHUNK = insert(cast(Table, TelemetryChunk.__table__))
# The SET clause comes from the parameters given; the WHERE makes it compare-and-set.
_TOUCH_RUNNING = update(_SESSIONS).where(
    _SESSIONS.c.id == bindparam("record_id"), _SESSIONS.c.status == "running"
)
# What a lost link to the store raises (refused, reset, terminated); not a refused row, which
# a journal would only carry over to fail again at its hand-over.
_LINK_LOST = (OperationalError, InterfaceError)
_DOSE_KEYS = ("dose_by_zone", "dose")
_DELIVERED_KEYS = ("delivered_settings", "delivered")


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None and tuples/sets as lists (JSON, JSONB-safe)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [json_safe(v) for v in items]
    if value is None or isinstance(value, bool | int | str):
        return value
    to_dict = getattr(value, "to_dict", None)
    return json_safe(to_dict()) if callable(to_dict) else str(value)


def event_dict(event: object) -> dict[str, Any]:
    """An event as a JSON-safe dict; `InvalidValue` unless it has a ``kind`` and a finite ``t_s``."""
    raw = _as_dict(event, "event")
    kind, t_s = raw.get("kind"), raw.get("t_s")
    if not isinstance(kind, str) or not kind:
        raise InvalidValue("event.kind", kind, "every event needs a kind")
    if isinstance(t_s, bool) or not isinstance(t_s, int | float) or not math.isfinite(t_s):
        raise InvalidValue("event.t_s", t_s, "every event needs a finite time in seconds")
    safe: dict[str, Any] = json_safe(raw)
    return safe


def _as_dict(item: object, field: str) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    to_dict = getattr(item, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise InvalidValue(field, type(item).__name__, "must be a mapping or have to_dict()")


def _is_event(item: object) -> bool:
    if isinstance(item, Mapping):
        return "kind" in item
    return hasattr(item, "kind")


class SessionRecorder:
    """Records one session. Create it with `start`; feed it with ``recorder(item)``."""

    def __init__(
        self,
        store: Store,
        session_id: int,
        avoid_zones: Sequence[str] = (),
        journal: Journal | None = None,
    ) -> None:
        self.store = store
        self.session_id = session_id
        # where writes the store refuses go (a station's session); None: they raise
        self.journal = journal
        self._avoid = frozenset(avoid_zones)
        self.status = "running"
        self._seq = 0
        self._chunk_seq = 0
        self._frames = 0
        self._last_t_s = 0.0
        self._buffer = TelemetryBuffer(store.settings.telemetry_hz)
        self._steps: list[tuple[str, float, dict[str, Any]]] = []

    @classmethod
    def start(
        cls,
        store: Store,
        *,
        protocol_name: str,
        protocol_version: str = "",
        protocol_hash: str = "",
        device_url: str = "",
        device_capabilities: Mapping[str, Any] | None = None,
        client_id: int | None = None,
        practitioner_id: int | None = None,
        appointment_id: int | None = None,
        avoid_zones: Sequence[str] = (),
        journaled: bool = False,
        personalisation: Mapping[str, Any] | None = None,
        planned_s: float | None = None,
        admit: Callable[[Session], None] | None = None,
    ) -> SessionRecorder:
        """Open a ``running`` record now and return its recorder. ``journaled``: once the store
        is out of reach, every write goes to the session's journal (`microamp.store.journal`)
        until it is handed over, instead of raising. ``personalisation``: the home routine as
        she runs it. ``planned_s``: the time the session may take, counted against her day
        while it starts. ``admit`` runs in the record's own transaction before the row is
        written: what it raises opens no record, and what it reads no other start changes
        before this record is there (`microamp.store.daily_time.claim_daily_time`)."""
        record = TreatmentSession(
            protocol_name=protocol_name,
            protocol_version=protocol_version,
            protocol_hash=protocol_hash,
            device_url=device_url,
            device_capabilities=json_safe(dict(device_capabilities or {})),
            client_id=client_id,
            practitioner_id=practitioner_id,
            appointment_id=appointment_id,
            avoid_zones=sorted(avoid_zones),
            personalisation=json_safe(dict(personalisation or {})),
            delivered_settings={} if planned_s is None else {"planned_s": float(planned_s)},
            status="running",
            recorder_host=socket.gethostname(),
            recorder_pid=os.getpid(),
        )
        with store.transaction() as session:
            if admit is not None:
                admit(session)
            session.add(record)
            session.flush()
            session_id = record.id
            if appointment_id is not None:
                # the appointment is in treatment with this record, or there is no record
                link_session(
                    session, appointment_id=appointment_id, treatment_session_id=session_id
                )
        journal = Journal(journal_path(store, session_id)) if journaled else None
        return cls(store, session_id, avoid_zones, journal)

    # -- subscriber ---------------------------------------------------------------------------

    def __call__(self, item: object) -> None:
        """Take one event or one telemetry frame."""
        if _is_event(item):
            self.record_event(item)
        else:
            self.record_telemetry(item)

    def record_event(self, event: object) -> None:
        """Commit one event now; an end event also closes the record."""
        self.record_events([event])

    def record_events(self, events: Sequence[object]) -> None:
        """Commit ``events`` in order, as few transactions as possible: every event before an
        end event in one, then the end (which closes the record) in its own."""
        rows: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        for event in events:
            self._check_running()
            data = event_dict(event)
            if data["kind"] in END_KINDS:
                self._commit_events(rows, values)
                rows, values = [], {}
                self._finish_on(data)
                continue
            values |= _row_values(data) | self._zones_left_out(data)
            rows.append(self._event_row(data))
        self._commit_events(rows, values)

    def _commit_events(self, rows: list[dict[str, Any]], values: dict[str, Any]) -> None:
        if rows:
            self._commit(events=rows, touch={"event_count": self._seq, **values})

    def _finish_on(self, data: dict[str, Any]) -> None:
        kind = data["kind"]
        status = kind if kind in _STATUS_KINDS else data.get("status")
        self.finish(
            status if isinstance(status, str) else "completed",
            dose_by_zone=_first(data, _DOSE_KEYS),
            delivered_settings=_first(data, _DELIVERED_KEYS),
            end_event=data,
        )

    def record_telemetry(self, frame: object) -> None:
        """Buffer one frame; flush a chunk once the buffer spans ``telemetry_flush_s``.
        Frames that trail the end event are dropped: the record is closed."""
        if self.buffer_telemetry(frame):
            self.flush_telemetry()

    def buffer_telemetry(self, frame: object) -> bool:
        """Buffer one frame without writing; whether a chunk is due (`flush_telemetry`)."""
        if self.status != "running":
            return False
        self._buffer.add(frame)
        self._frames += 1
        return self._buffer.span_s() >= self.store.settings.telemetry_flush_s

    def flush_telemetry(self, *, final: bool = False) -> None:
        """Write the buffered telemetry as one compressed chunk."""
        self._commit(chunks=self._chunk_rows(final=final))

    # -- the end ------------------------------------------------------------------------------

    def finish(
        self,
        status: str,
        *,
        dose_by_zone: Mapping[str, Any] | None = None,
        delivered_settings: Mapping[str, Any] | None = None,
        end_event: Mapping[str, Any] | None = None,
    ) -> None:
        """Close the record: remaining telemetry, the end event, status, dose, settings."""
        self._check_running()
        if status not in TERMINAL_STATUSES:
            raise InvalidValue(
                "status", status, f"must be one of {', '.join(sorted(TERMINAL_STATUSES))}"
            )
        end = dict(end_event or {"kind": status, "t_s": self._last_t_s})
        chunks = self._chunk_rows(final=True)
        values: dict[str, Any] = {
            "status": status,
            "ended_at": utc_now(),
            "dose_by_zone": json_safe(dict(dose_by_zone or dose_from_events(self._steps))),
            "delivered_settings": json_safe(
                dict(delivered_settings or delivered_from_events(self._steps))
            ),
        }
        touch = {"event_count": self._seq + 1, **values}
        self._commit(chunks=chunks, touch=touch, events=[self._event_row(json_safe(end))])
        self.status = status
        if status == "completed":
            self._complete_appointment()

    def _complete_appointment(self) -> None:
        """The visit is over when its record is: its appointment completes with it. While the
        record's end waits in the journal, the hand-over completes it instead."""
        if self.journal is not None and self.journal.pending:
            return
        try:
            with self.store.transaction() as session:
                complete_for_session(session, treatment_session_id=self.session_id)
        except _LINK_LOST:
            if self.journal is None:
                raise
            # an empty unit: the hand-over finds the record completed and completes the visit
            self.journal.append({"record_id": self.session_id})

    def keep_summary(self, summary: object) -> None:
        """`record_summary` on this closed record, or, while its writes go to the journal, in
        the journal after them."""
        if self.journal is not None and self.journal.pending:
            self.journal.append({"record_id": self.session_id, "summary": summary_values(summary)})
            return
        try:
            record_summary(self.store, session_id=self.session_id, summary=summary)
        except _LINK_LOST:
            if self.journal is None:
                raise
            self.journal.append({"record_id": self.session_id, "summary": summary_values(summary)})

    def close(self) -> None:
        """End a record the session never ended (the runner raised): it is ``interrupted``."""
        if self.status == "running":
            self.finish(
                "interrupted",
                end_event={
                    "kind": "interrupted",
                    "t_s": self._last_t_s,
                    "reason": "the session ended without an end event",
                },
            )

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _zones_left_out(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The record's zones left out, widened by a screening's zones to avoid or a step the
        runner skipped: the record says what the session did, not only what it was told."""
        zones: set[str] = set()
        if data["kind"] == "precheck" and isinstance(data.get("avoid_zones"), list):
            zones = {str(z) for z in data["avoid_zones"]}
        elif data["kind"] == "step_skipped" and isinstance(data.get("zone"), str):
            zones = {data["zone"]}
        if zones <= self._avoid:
            return {}
        self._avoid = self._avoid | zones
        return {"avoid_zones": sorted(self._avoid)}

    def _check_running(self) -> None:
        if self.status != "running":
            raise StoreError(f"session record {self.session_id} is already {self.status}")

    # Writes go through Core statements built once: the ORM's unit of work would triple the
    # cost of each per-event transaction for no gain here.

    def _event_row(self, data: dict[str, Any]) -> dict[str, Any]:
        """The row of the next event (its sequence number taken now, written or journaled)."""
        payload = {k: v for k, v in data.items() if k not in ("kind", "t_s")}
        t_s = float(data.get("t_s") or 0.0)
        row = {"session_id": self.session_id, "seq": self._seq, "kind": str(data["kind"]),
               "t_s": t_s, "data": payload, "recorded_at": utc_now()}  # fmt: skip
        self._seq += 1
        self._last_t_s = max(self._last_t_s, t_s)
        if data["kind"] in RELEVANT_KINDS:
            self._steps.append((str(data["kind"]), t_s, payload))
        return row

    def _chunk_rows(self, *, final: bool) -> list[dict[str, Any]]:
        chunk = self._buffer.take(final=final)
        if chunk is None:
            return []
        row = {"session_id": self.session_id, "seq": self._chunk_seq,
               "t_start_s": chunk.t_start_s, "t_end_s": chunk.t_end_s, "rows": chunk.rows,
               "source_frames": chunk.source_frames, "codec": CODEC, "columns": list(COLUMNS),
               "data": chunk.data, "flag_changes": json_safe(chunk.flag_changes)}  # fmt: skip
        self._chunk_seq += 1
        return [row]

    def _commit(
        self,
        *,
        events: Sequence[dict[str, Any]] = (),
        chunks: Sequence[dict[str, Any]] = (),
        touch: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the rows and update the record (``touch``, frame count, last write) in one
        transaction, and only while it is still ``running``: compare-and-set, so a record that
        recovery has closed is never written to again. A journaled recorder whose store is out
        of reach appends the same write to its journal instead, and so every write after it,
        in order, until the journal is handed over."""
        values = {"telemetry_frames": self._frames, "last_write_at": utc_now(), **(touch or {})}
        if self.journal is not None and self.journal.pending:
            self._journal(events, chunks, values)
            return
        try:
            with self.store.engine.begin() as connection:
                for chunk in chunks:
                    connection.execute(_INSERT_CHUNK, chunk)
                result = connection.execute(
                    _TOUCH_RUNNING, {"record_id": self.session_id, **values}
                )
                if result.rowcount != 1:
                    raise StoreError(f"session record {self.session_id} is no longer running")
                for event in events:
                    connection.execute(_INSERT_EVENT, event)
        except _LINK_LOST:
            if self.journal is None:
                raise
            self._journal(events, chunks, values)

    def _journal(
        self,
        events: Sequence[dict[str, Any]],
        chunks: Sequence[dict[str, Any]],
        touch: Mapping[str, Any],
    ) -> None:
        assert self.journal is not None
        self.journal.append({"record_id": self.session_id, "events": list(events),
                             "chunks": list(chunks), "touch": dict(touch)})  # fmt: skip


def _row_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Columns an event fills in: the runner's ``started`` names the protocol and device,
    ``refused`` gives the reasons."""
    values: dict[str, Any] = {}
    if data["kind"] == "started":
        for column, key in (
            ("protocol_version", "protocol_version"),
            ("protocol_hash", "content_hash"),
        ):
            if isinstance(data.get(key), str) and data[key]:
                values[column] = data[key]
        if isinstance(data.get("device"), Mapping) and data["device"]:
            values["device_capabilities"] = data["device"]
    elif data["kind"] == "refused" and isinstance(data.get("reasons"), list):
        values["refusal_reasons"] = [str(reason) for reason in data["reasons"]]
    return values


def record_summary(store: Store, *, session_id: int, summary: object) -> None:
    """After the end, keep what the runner's summary adds (its dose by zone, step results,
    faults and prechecks) on a closed record. ``summary``: a mapping or has ``to_dict()``."""
    kept = summary_values(summary)
    values: dict[str, Any] = {}
    if "dose_by_zone" in kept:
        values["dose_by_zone"] = kept["dose_by_zone"]
    extra = kept["extra"]
    with store.transaction() as session:
        record = session.get(TreatmentSession, session_id)
        if record is None or record.status == "running":
            raise StoreError(f"session record {session_id} is not closed")
        if extra:
            values["delivered_settings"] = {**record.delivered_settings, **extra}
        for column, value in values.items():
            setattr(record, column, value)


def summary_values(summary: object) -> dict[str, Any]:
    """What a summary adds to its record, JSON-safe: ``dose_by_zone`` (when it has one) and
    ``extra`` (its step results, faults, prechecks, charge and profile)."""
    data = _as_dict(summary, "summary")
    kept: dict[str, Any] = {"extra": json_safe({k: data[k] for k in _SUMMARY_KEYS if k in data})}
    if isinstance(data.get("dose_by_zone"), Mapping):
        kept["dose_by_zone"] = json_safe(data["dose_by_zone"])
    return kept


_SUMMARY_KEYS = ("steps", "faults", "prechecks", "delivered_charge_uc", "stimulation_s", "profile",
                 "profile_hash")  # fmt: skip


def _first(data: Mapping[str, Any], keys: Sequence[str]) -> Mapping[str, Any] | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, Mapping):
            return value
    return None
