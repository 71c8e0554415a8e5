"""Tables of a treatment session: the record, its events, and its telemetry in chunks.

A record is written as the session runs: the row opens as ``running``, every event is its own
row committed on arrival, telemetry lands in compressed chunks, and the end writes the status.
``recorder_host``/``recorder_pid``/``last_write_at`` let recovery tell a live recorder from a
dead one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = [
    "SESSION_STATUSES",
    "TERMINAL_STATUSES",
    "SessionEvent",
    "TelemetryChunk",
    "TreatmentSession",
]

SESSION_STATUSES = ("running", "completed", "stopped", "aborted", "interrupted", "refused")
TERMINAL_STATUSES = frozenset(SESSION_STATUSES) - {"running"}


class TreatmentSession(Base):
    """What one session delivered, to whom, with what, and how the client found it."""

    __tablename__ = "treatment_sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'completed', 'stopped', 'aborted', 'interrupted', 'refused')",
            "status",
        ),
        CheckConstraint("feedback_comfort BETWEEN 0 AND 10", "feedback_comfort"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    protocol_name: Mapped[str] = mapped_column(String(200))
    protocol_version: Mapped[str] = mapped_column(String(40), default="")
    protocol_hash: Mapped[str] = mapped_column(String(128), default="")
    device_url: Mapped[str] = mapped_column(String(500), default="")
    device_capabilities: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_write_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorder_host: Mapped[str] = mapped_column(String(255), default="")
    recorder_pid: Mapped[int | None] = mapped_column(Integer)
    avoid_zones: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    refusal_reasons: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    dose_by_zone: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    delivered_settings: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    # a home routine as she runs it: which routine, what she skipped, her zone levels ({} else)
    personalisation: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    telemetry_frames: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    feedback_comfort: Mapped[int | None] = mapped_column(Integer)
    feedback_tingling: Mapped[bool | None] = mapped_column(Boolean)
    feedback_metallic_taste: Mapped[bool | None] = mapped_column(Boolean)
    feedback_redness: Mapped[bool | None] = mapped_column(Boolean)

    events: Mapped[list[SessionEvent]] = relationship(
        order_by="SessionEvent.seq", cascade="all, delete-orphan"
    )
    chunks: Mapped[list[TelemetryChunk]] = relationship(
        order_by="TelemetryChunk.seq", cascade="all, delete-orphan"
    )


class SessionEvent(Base):
    """One event as the runner emitted it; ``seq`` counts from 0 without gaps."""

    __tablename__ = "session_events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    t_s: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class TelemetryChunk(Base):
    """Downsampled telemetry over ``[t_start_s, t_end_s]``, packed by `microamp.store.telemetry`."""

    __tablename__ = "telemetry_chunks"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    t_start_s: Mapped[float] = mapped_column(Float)
    t_end_s: Mapped[float] = mapped_column(Float)
    rows: Mapped[int] = mapped_column(Integer)
    source_frames: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(40))
    columns: Mapped[list[str]] = mapped_column(JSONValue)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    flag_changes: Mapped[list[Any]] = mapped_column(JSONValue, default=list)
