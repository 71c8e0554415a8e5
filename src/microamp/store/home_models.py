"""Tables of the home companion: the household's account, its routines and its sessions.

A home account belongs to one person, who is a `Client` of the same store: her home sessions
are records the clinic side reads beside her clinic sessions. A session done in guide mode
(the phone times the routine, the device is one microamp does not drive) is logged with
``device_connected`` false and the steps done, as the phone reported them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = ["HOME_MODES", "HOME_STATUSES", "HomeAccount", "HomeRoutine", "HomeSession"]

HOME_MODES = ("guided", "device")
HOME_STATUSES = ("completed", "stopped", "auto-off")


class HomeAccount(Base):
    """The household's sign-in and what the person chose: the muscles and zones she skips,
    the level (0-1 of each step's intensity) each zone starts from, and her regimen."""

    __tablename__ = "home_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    skipped: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    zone_levels: Mapped[dict[str, float]] = mapped_column(JSONValue, default=dict)
    plan_start: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # the user (role `home`) who operates her device sessions: she, for her own record only
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class HomeRoutine(Base):
    """A routine the person built, kept as protocol data (validated under the home profile)."""

    __tablename__ = "home_routines"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("home_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class HomeSession(Base):
    """One home session as the phone reported it; ``uuid`` is the phone's own id for it, so a
    log queued offline and posted twice is one row."""

    __tablename__ = "home_sessions"
    __table_args__ = (
        CheckConstraint("mode IN ('guided', 'device')", "mode"),
        CheckConstraint("status IN ('completed', 'stopped', 'auto-off')", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("home_accounts.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    protocol_name: Mapped[str] = mapped_column(String(64))
    protocol_hash: Mapped[str] = mapped_column(String(80))
    mode: Mapped[str] = mapped_column(String(10), default="guided")
    device_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    on_date: Mapped[date] = mapped_column(Date, index=True)
    seconds_done: Mapped[float] = mapped_column(Float)
    steps_done: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    status: Mapped[str] = mapped_column(String(10))
    cues: Mapped[int] = mapped_column(Integer, default=0)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
