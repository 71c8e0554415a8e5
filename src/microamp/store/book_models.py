"""Tables of the appointment book: the clinic's settings, its closures, rooms and services.

Appointments themselves are `microamp.store.models.Appointment`; the rules are
`microamp.clinic.booking` and the functions `microamp.store.book`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = ["ClinicSettings", "ClosurePeriod", "Room", "Service"]


class ClinicSettings(Base):
    """The clinic, one row (``id`` 1), made when the clinic is set up
    (`microamp.store.clinic_setup.claim_clinic`). ``opening_hours`` is ``{"mon": [["09:00", "18:00"]],
    ...}`` in ``time_zone`` (IANA); every time is stored in UTC and shown in that zone.
    ``reminder_lead_hours``: how long before a visit its reminder goes; ``retention_years``: how
    long a client's records are kept after her last treatment, refusing her erasure until then
    (0: no hold)."""

    __tablename__ = "clinic_settings"
    __table_args__ = (
        CheckConstraint("id = 1", "single_row"),
        CheckConstraint("reminder_lead_hours BETWEEN 1 AND 336", "reminder_lead_hours"),
        CheckConstraint("retention_years BETWEEN 0 AND 100", "retention_years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    care_sheet: Mapped[str] = mapped_column(Text, default="")
    reminder_lead_hours: Mapped[int] = mapped_column(Integer, default=24)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    retention_years: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ClosurePeriod(Base):
    """Days the clinic is closed (``first_day`` to ``last_day``, inclusive), and why."""

    __tablename__ = "clinic_closures"
    __table_args__ = (CheckConstraint("first_day <= last_day", "days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, index=True)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))


class Room(Base):
    """A treatment room; ``station_name`` is the station (and so the device) in it, if any."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    station_name: Mapped[str | None] = mapped_column(
        ForeignKey("stations.name", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Base):
    """What a client books: ``duration_min`` on the book, ``buffer_min`` after it before the
    room, practitioner and client are free again, a price in minor units (cents) of
    ``currency``, the ``protocol_name`` its microcurrent step runs, and ``steps``: the manual
    steps around it, in order, ``[{"name", "minutes", "kind"}]`` (kinds:
    `microamp.clinic.booking.STEP_KINDS`)."""

    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("duration_min BETWEEN 5 AND 480", "duration_min"),
        CheckConstraint("buffer_min BETWEEN 0 AND 120", "buffer_min"),
        CheckConstraint("price_minor >= 0", "price_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # a sentence or two for the public booking page
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    duration_min: Mapped[int] = mapped_column(Integer)
    buffer_min: Mapped[int] = mapped_column(Integer, default=0)
    price_minor: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    protocol_name: Mapped[str | None] = mapped_column(String(200))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
