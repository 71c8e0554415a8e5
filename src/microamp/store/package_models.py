"""Packages sold to clients, the credits their completed appointments used, and payments as
recorded (never processed: microamp takes no card)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, UTCDateTime, utc_now

__all__ = ["PAYMENT_METHODS", "ClientPackage", "CreditUse", "Payment"]

PAYMENT_METHODS = ("cash", "card", "transfer", "voucher", "other")


class ClientPackage(Base):
    """A package sold to a client: ``sessions_total`` credits of ``service_id`` (None: any
    service) at ``price_minor`` (minor units of ``currency``), usable until ``expires_on``."""

    __tablename__ = "client_packages"
    __table_args__ = (
        CheckConstraint("sessions_total > 0", "sessions_total"),
        CheckConstraint("price_minor >= 0", "price_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"))
    name: Mapped[str] = mapped_column(String(200))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    sessions_total: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    sold_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CreditUse(Base):
    """One credit of a client's package, used by one completed appointment (once)."""

    __tablename__ = "package_credit_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_package_id: Mapped[int] = mapped_column(ForeignKey("client_packages.id"), index=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), unique=True)
    used_on: Mapped[date] = mapped_column(Date)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Payment(Base):
    """A payment as taken: amount, method, the reference of the receipt or transfer."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", "amount_minor"),
        CheckConstraint("method IN ('cash', 'card', 'transfer', 'voucher', 'other')", "method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    client_package_id: Mapped[int | None] = mapped_column(ForeignKey("client_packages.id"))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(Text, default="")
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
