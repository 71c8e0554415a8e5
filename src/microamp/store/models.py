"""Tables of the clinic: people, intake, consent, clearance, plans, progress, prices.

Treatment sessions and what they record live in `microamp.store.session_models`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = [
    "HOME_ROLE",
    "ROLES",
    "Appointment",
    "Client",
    "Clearance",
    "Consent",
    "CoursePlan",
    "IntakeForm",
    "Package",
    "Price",
    "ProgressEntry",
    "SafetyFlag",
    "User",
]

ROLES = ("owner", "practitioner", "reception")
# the home app's operator of her own sessions only: never offered to staff, refused by every
# clinic route (web/roles.py admits no route to it)
HOME_ROLE = "home"


class User(Base):
    """A person who works in the clinic. ``password_hash`` is argon2id, set by the web app."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'practitioner', 'reception', 'home')", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="practitioner")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # set with a temporary password: the next sign-in goes nowhere until a new one is chosen
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # TOTP (RFC 6238): the base32 secret, when its enrolment was confirmed (None: pending or
    # none), and the last time step accepted, so a code is never taken twice
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # an owner's or practitioner's working hours, shaped as the clinic's opening hours
    # (``{"mon": [["09:00", "13:00"]], ...}``, a weekday missing: not working); None: the
    # clinic's. Read by the book's one rule and by online booking's free slots.
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)

    @property
    def two_factor(self) -> bool:
        """Whether sign-in asks this user for a second factor."""
        return self.totp_enabled_at is not None and self.totp_secret is not None


class Client(Base):
    """A person treated. ``fitzpatrick_type`` is 1-6 (I-VI); ``concerns`` a list of words."""

    __tablename__ = "clients"
    __table_args__ = (CheckConstraint("fitzpatrick_type BETWEEN 1 AND 6", "fitzpatrick_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    fitzpatrick_type: Mapped[int | None] = mapped_column(Integer)
    concerns: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    preferred_weekdays: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="", server_default="")
    medications: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # archived clients leave lists and search unless asked; a merged duplicate is archived and
    # names the client it was merged into
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))

    intake_forms: Mapped[list[IntakeForm]] = relationship(
        back_populates="client", order_by="IntakeForm.id"
    )
    consents: Mapped[list[Consent]] = relationship(back_populates="client", order_by="Consent.id")
    clearances: Mapped[list[Clearance]] = relationship(
        back_populates="client", order_by="Clearance.id"
    )
    safety_flags: Mapped[list[SafetyFlag]] = relationship(
        back_populates="client", order_by="SafetyFlag.id"
    )


class IntakeForm(Base):
    """Intake answers as given, and the screening they produced under one rules version."""

    __tablename__ = "intake_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    rules_version: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(30))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue, default=list)
    avoid_zones: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    deferred_until: Mapped[date | None] = mapped_column(Date)
    screened_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    client: Mapped[Client] = relationship(back_populates="intake_forms")


class SafetyFlag(Base):
    """A contraindication or clearance requirement a screening found, kept on the client.

    Raised once, it refuses a session whatever later answers say, until a practitioner or
    owner lifts it: who (``lifted_by_id`` and ``lifted_by`` as the audit names them), when and
    why are kept on the row, which is never deleted.
    """

    __tablename__ = "safety_flags"
    __table_args__ = (
        CheckConstraint("outcome IN ('contraindicated', 'clearance_required')", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    intake_form_id: Mapped[int | None] = mapped_column(ForeignKey("intake_forms.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_by: Mapped[str | None] = mapped_column(String(254))
    lift_reason: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship(back_populates="safety_flags")


class Consent(Base):
    """A signed consent: which text version, the signature as typed, and when."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    text_version: Mapped[str] = mapped_column(String(40))
    typed_signature: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    witnessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    client: Mapped[Client] = relationship(back_populates="consents")


class Clearance(Base):
    """A physician's clearance. ``rule_ids`` are the screening rules it covers (empty: all)."""

    __tablename__ = "clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    physician_name: Mapped[str] = mapped_column(String(200))
    rule_ids: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    document_ref: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    client: Mapped[Client] = relationship(back_populates="clearances")


class CoursePlan(Base):
    """A course of sessions built from a template; its appointments are the dates."""

    __tablename__ = "course_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    template: Mapped[str] = mapped_column(String(40))
    protocol_name: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    weekdays: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    months: Mapped[int] = mapped_column(Integer)
    price_per_session_cents: Mapped[int | None] = mapped_column(Integer)
    estimated_cost_cents: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="plan", order_by="Appointment.number", cascade="all, delete-orphan"
    )


class Appointment(Base):
    """A visit in the book, or one planned session of a course (``plan_id``, ``number``,
    ``phase``; ``checkin`` marks where progress is reviewed). A course-plan session has a day
    (``on_date``) and no time until it is booked; a booked one has ``starts_at``/``ends_at``
    (UTC), a room, a practitioner and a service, and holds them until ``clear_at`` (its end
    plus the service's buffer). ``on_date`` is always the day in the clinic's zone.
    States: `microamp.clinic.booking.STATES`; every booking goes through
    `microamp.store.book.book_appointment`."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint("phase IS NULL OR phase IN ('initial', 'maintenance')", "phase"),
        CheckConstraint(
            "state IN ('booked', 'confirmed', 'checked_in', 'in_treatment', 'completed', "
            "'cancelled', 'no_show')",
            "state",
        ),
        CheckConstraint(
            "(starts_at IS NULL AND ends_at IS NULL AND clear_at IS NULL) OR "
            "(starts_at < ends_at AND ends_at <= clear_at)",
            "times",
        ),
        Index("ix_appointments_room_starts", "room_id", "starts_at"),
        Index("ix_appointments_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointments_client_starts", "client_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("course_plans.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    on_date: Mapped[date] = mapped_column(Date, index=True)
    phase: Mapped[str | None] = mapped_column(String(20))
    checkin: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="booked")
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clear_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the session run for it; `TreatmentSession.appointment_id` is the foreign key the other
    # way, so this mirror carries none (a cycle of keys would fix the order tables are made in)
    treatment_session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    series_id: Mapped[str | None] = mapped_column(String(36), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    plan: Mapped[CoursePlan | None] = relationship(back_populates="appointments")


class ProgressEntry(Base):
    """A progress check: a photo (EXIF stripped, its bytes in `PhotoBlob` under
    ``photo_sha256``; ``photo_path`` only for a photo an older microamp kept on disk) and
    ratings 0-10 by name. A photo
    taken for comparison has a ``view`` (front, left45, right45), the ``photo_use_consent`` the
    client gave for it, its ``measurement`` (`microamp.vision.measures.Measurement.as_dict`)
    and ``landmarks_px`` (478 x 2), computed once at upload; ``unmeasured`` says why there is
    none. The landmarks load only when asked for: a page of 200 photos' measures needs none."""

    __tablename__ = "progress_entries"
    __table_args__ = (
        CheckConstraint("view IS NULL OR view IN ('front', 'left45', 'right45')", "view"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    treatment_session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_sessions.id"))
    taken_on: Mapped[date] = mapped_column(Date)
    photo_path: Mapped[str | None] = mapped_column(String(1000))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    ratings: Mapped[dict[str, int]] = mapped_column(JSONValue, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    view: Mapped[str | None] = mapped_column(String(10))
    lighting_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo_use_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    measurement: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    unmeasured: Mapped[str | None] = mapped_column(Text)
    landmarks_px: Mapped[list[list[float]] | None] = mapped_column(JSONValue, deferred=True)

    @property
    def has_photo(self) -> bool:
        """Whether a photo was kept with this entry."""
        return self.photo_sha256 is not None


class Price(Base):
    """The price of one session of a protocol, in minor units (cents) of ``currency``."""

    __tablename__ = "prices"
    __table_args__ = (CheckConstraint("amount_cents >= 0", "amount_cents"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_name: Mapped[str] = mapped_column(String(200), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")


class Package(Base):
    """A bundle of ``sessions`` sold at ``discount_pct`` off the per-session price."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint("sessions > 0", "sessions"),
        CheckConstraint("discount_pct >= 0 AND discount_pct < 100", "discount_pct"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sessions: Mapped[int] = mapped_column(Integer)
    discount_pct: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))
    protocol_name: Mapped[str | None] = mapped_column(String(200))
    # a package sold as N sessions of a service at a price, usable for ``valid_days``
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    price_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    valid_days: Mapped[int | None] = mapped_column(Integer)
