"""Tables through which stations and web workers meet: the registered stations, the operators'
controls addressed to them, and the live state and messages of each session a station runs.

A station is the one process that opens its device; a web worker never holds session state.
So everything a console, a live stream or the API shows of a session under way is a row here,
written by the station a few times a second, and every control is a row the station answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = ["LiveMessage", "LiveState", "Station", "StationControl"]


class Station(Base):
    """A registered station: its device, and its heartbeat (online while fresh); ``live_id``
    names the session it runs (busy), if any."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    device_url: Mapped[str] = mapped_column(String(500))
    device: Mapped[str] = mapped_column(String(500), index=True)
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    live_id: Mapped[str | None] = mapped_column(String(32))


class StationControl(Base):
    """One operator's control (start, pause, resume, stop, level) for a station, and its answer:
    taken when the station read it, answered ``ok`` or refused with a message."""

    __tablename__ = "station_controls"

    id: Mapped[int] = mapped_column(primary_key=True)
    station: Mapped[str] = mapped_column(String(120), index=True)
    live_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(16))
    value: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    operator_name: Mapped[str] = mapped_column(String(200))
    operator_id: Mapped[int | None] = mapped_column(Integer)
    operator_via: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)


class LiveState(Base):
    """A session a station runs (or ran lately): what it is, and its state as last written."""

    __tablename__ = "live_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station: Mapped[str] = mapped_column(String(120), index=True)
    client_id: Mapped[int] = mapped_column(Integer)
    client_name: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(64))
    device_url: Mapped[str] = mapped_column(String(500))
    intensity: Mapped[float] = mapped_column(Float)
    practitioner_id: Mapped[int | None] = mapped_column(Integer)
    practitioner_max_ua: Mapped[float | None] = mapped_column(Float)
    # the start's personalisation of a home routine (`Personalisation.to_dict`), or None
    personal: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    # the protocol the station runs, as data (`Protocol.model_dump`): the steps of the run,
    # whatever she has edited since; None on rows written before it was kept
    run_protocol: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    record_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="prechecks")
    state: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    done: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LiveMessage(Base):
    """One message of a live view, in order: an event, a thinned telemetry frame, the end."""

    __tablename__ = "live_messages"
    __table_args__ = (UniqueConstraint("live_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    live_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
