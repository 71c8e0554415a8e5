"""CSV exports for the clinic's own analysis: clients, appointments, sessions, and the dose by
zone (one row per session per zone).

A day range picks rows by the day they belong to, in the clinic's time zone: a client by the
day she was added, an appointment by its day, a session and its dose by the day it started. Rows are read in batches
and written as they come, so a clinic's whole history needs no more memory than a batch.

A cell of text that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is
written with a leading ``'``: a spreadsheet would otherwise run it as a formula. Numbers are
written as numbers, a negative one included.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal, TextIO, get_args

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book_models import Room, Service
from microamp.store.book_setup import get_settings
from microamp.store.models import Appointment, Client, User
from microamp.store.session_models import TreatmentSession

__all__ = ["CSV_TABLES", "CsvTable", "DayRange", "day_range", "neutralised", "write_csv"]

CsvTable = Literal["clients", "appointments", "sessions", "dose"]
CSV_TABLES: tuple[str, ...] = get_args(CsvTable)
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_BATCH_ROWS = 500
# a session's dose figures, as the record keeps them, in the columns' order
_DOSE_KEYS = ("charge_uc", "mean_current_ua", "stimulation_s", "mean_impedance_ohm")

_HEADERS: dict[str, tuple[str, ...]] = {
    "clients": ("client_id", "full_name", "date_of_birth", "email", "phone", "fitzpatrick_type",
                "concerns", "added_on", "archived"),
    "appointments": ("appointment_id", "client_id", "on_date", "starts_at", "ends_at", "state",
                     "service", "room", "practitioner", "plan_id", "number_in_plan",
                     "treatment_session_id"),
    "sessions": ("session_id", "client_id", "started_at", "ended_at", "duration_s", "status",
                 "protocol_name", "protocol_version", "device_url", "practitioner", "zones",
                 "total_charge_uc", "total_stimulation_s"),
    "dose": ("session_id", "client_id", "started_at", "zone", "charge_uc", "mean_current_ua",
             "stimulation_s", "mean_impedance_ohm"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DayRange:
    """The days ``first``..``last`` (both included; None for no bound) in the time zone
    ``zone`` (the clinic's, set by `write_csv`)."""

    first: date | None = None
    last: date | None = None
    zone: tzinfo = UTC

    def start_utc(self) -> datetime | None:
        """The instant the first day starts."""
        if self.first is None:
            return None
        return datetime.combine(self.first, time(), self.zone).astimezone(UTC)

    def end_utc(self) -> datetime | None:
        """The instant after the last day ends."""
        if self.last is None:
            return None
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)


def day_range(first: date | None, last: date | None) -> DayRange:
    """The range, or `InvalidValue` naming ``to`` when it ends before it starts."""
    if first is not None and last is not None and last < first:
        raise InvalidValue("to", last.isoformat(), f"a day on or after from ({first.isoformat()})")
    return DayRange(first, last)


def neutralised(value: Any) -> Any:
    """``value`` as a cell: text that a spreadsheet would take for a formula gets a leading
    ``'``; numbers, dates and None pass (None as an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS):
        return "'" + value
    return value


def _iso(moment: date | datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _batched(session: Session, query: Select[Any]) -> Iterator[Any]:
    """The query's rows, read ``_BATCH_ROWS`` at a time."""
    offset = 0
    while True:
        rows = list(session.scalars(query.limit(_BATCH_ROWS).offset(offset)))
        yield from rows
        if len(rows) < _BATCH_ROWS:
            return
        offset += _BATCH_ROWS  # the session holds rows weakly: a written batch is let go


def _names(session: Session, model: type[Room] | type[Service]) -> dict[int, str]:
    return {int(i): str(n) for i, n in session.execute(select(model.id, model.name))}


def _user_names(session: Session) -> dict[int, str]:
    return {u.id: u.display_name for u in session.scalars(select(User))}


def _client_rows(session: Session, days: DayRange) -> Iterator[list[Any]]:
    query = select(Client).order_by(Client.id)
    if (start := days.start_utc()) is not None:
        query = query.where(Client.created_at >= start)
    if (end := days.end_utc()) is not None:
        query = query.where(Client.created_at < end)
    for c in _batched(session, query):
        yield [c.id, c.full_name, c.date_of_birth.isoformat(), c.email, c.phone,
               c.fitzpatrick_type, "; ".join(c.concerns), c.created_at.date().isoformat(),
               "yes" if c.archived_at else "no"]  # fmt: skip


def _appointment_rows(session: Session, days: DayRange) -> Iterator[list[Any]]:
    rooms, services, users = _names(session, Room), _names(session, Service), _user_names(session)
    query = select(Appointment).order_by(Appointment.on_date, Appointment.id)
    if days.first is not None:
        query = query.where(Appointment.on_date >= days.first)
    if days.last is not None:
        query = query.where(Appointment.on_date <= days.last)
    for a in _batched(session, query):
        yield [a.id, a.client_id, a.on_date.isoformat(), _iso(a.starts_at), _iso(a.ends_at),
               a.state, services.get(a.service_id) if a.service_id else None,
               rooms.get(a.room_id) if a.room_id else None,
               users.get(a.practitioner_id) if a.practitioner_id else None,
               a.plan_id, a.number, a.treatment_session_id]  # fmt: skip


def _session_query(days: DayRange) -> Select[Any]:
    query = select(TreatmentSession).order_by(TreatmentSession.id)
    if (start := days.start_utc()) is not None:
        query = query.where(TreatmentSession.started_at >= start)
    if (end := days.end_utc()) is not None:
        query = query.where(TreatmentSession.started_at < end)
    return query


def _zone_doses(record: TreatmentSession) -> list[tuple[str, dict[str, Any]]]:
    return [(str(z), d) for z, d in (record.dose_by_zone or {}).items() if isinstance(d, dict)]


def _session_rows(session: Session, days: DayRange) -> Iterator[list[Any]]:
    users = _user_names(session)
    for r in _batched(session, _session_query(days)):
        doses = _zone_doses(r)
        duration_s = (r.ended_at - r.started_at).total_seconds() if r.ended_at else None
        yield [r.id, r.client_id, _iso(r.started_at), _iso(r.ended_at), duration_s, r.status,
               r.protocol_name, r.protocol_version, r.device_url,
               users.get(r.practitioner_id) if r.practitioner_id else None,
               "; ".join(zone for zone, _ in doses),
               sum(d.get("charge_uc") or 0.0 for _, d in doses),
               sum(d.get("stimulation_s") or 0.0 for _, d in doses)]  # fmt: skip


def _dose_rows(session: Session, days: DayRange) -> Iterator[list[Any]]:
    for r in _batched(session, _session_query(days)):
        for zone, figures in _zone_doses(r):
            yield [r.id, r.client_id, _iso(r.started_at), zone,
                   *(figures.get(key) for key in _DOSE_KEYS)]  # fmt: skip


_ROWS = {
    "clients": _client_rows,
    "appointments": _appointment_rows,
    "sessions": _session_rows,
    "dose": _dose_rows,
}


def write_csv(session: Session, *, table: str, out: TextIO, days: DayRange | None = None) -> int:
    """Write ``table`` (one of `CSV_TABLES`) as CSV with a header row into ``out``; the number
    of rows written after the header. `InvalidValue` naming ``table`` for another name."""
    if table not in _ROWS:
        raise InvalidValue("table", table, f"one of {', '.join(CSV_TABLES)}")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_HEADERS[table])
    written = 0
    zone = clinic_zone(get_settings(session).time_zone)
    for row in _ROWS[table](session, replace(days or DayRange(), zone=zone)):
        writer.writerow([neutralised(cell) for cell in row])
        written += 1
    return written
