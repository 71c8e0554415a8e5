"""Tables every process that runs sessions shares: who holds each device, and the protocols
an owner has stored.

A device has at most one `DeviceLease` row (unique on its identity), so "one device, one
session" holds in the database itself, across processes and hosts. A `StoredProtocol` keeps the
TOML text exactly as uploaded, with its content hash, one row per (name, version).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, UTCDateTime, utc_now

__all__ = ["DeviceLease", "StoredProtocol"]


class DeviceLease(Base):
    """The one holder of a device until ``expires_at``, renewed by heartbeat while it runs."""

    __tablename__ = "device_leases"

    id: Mapped[int] = mapped_column(primary_key=True)
    device: Mapped[str] = mapped_column(String(500), unique=True)
    holder: Mapped[str] = mapped_column(String(200))
    session_id: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredProtocol(Base):
    """A protocol an owner uploaded, validated before it was written; never edited after."""

    __tablename__ = "stored_protocols"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    toml_text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(128))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_by: Mapped[str] = mapped_column(String(254))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
