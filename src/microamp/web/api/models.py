"""Request and response bodies of the API (pydantic), in families per resource."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from microamp.store.models import Client, ProgressEntry, SafetyFlag
from microamp.store.photos import PreparedPhoto
from microamp.web.deps import MAX_ROW_ID


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    role: str


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    preferred_weekdays: list[str] = Field(default_factory=list)
    # a client who may be on file already (same name and birth date, email or phone) is
    # answered 409 with the possible duplicates, unless this is true
    allow_duplicate: bool = False


class ClientPublic(BaseModel):
    """Contact details: what every role may see."""

    id: int
    full_name: str
    date_of_birth: date
    email: str | None
    phone: str | None
    preferred_weekdays: list[str]

    @classmethod
    def of(cls, client: Client) -> ClientPublic:
        return cls(
            id=client.id,
            full_name=client.full_name,
            date_of_birth=client.date_of_birth,
            email=client.email,
            phone=client.phone,
            preferred_weekdays=list(client.preferred_weekdays),
        )


class AppointmentPublic(BaseModel):
    date: date
    number: int | None = Field(description="the session's number in its course plan, if any")
    client_id: int
    client: str
    phone: str | None
    email: str | None


class ScreeningRequest(BaseModel):
    """Intake answers as `microamp screen` reads them (every key required), and the day."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any]
    on: date | None = None


class ScreeningPublic(BaseModel):
    outcome: str
    reasons: list[dict[str, Any]]
    deferred_until: date | None
    avoid_zones: list[str]
    rules_version: str
    screened_on: date


class LiftRequest(BaseModel):
    """A decision to lift a safety flag: which rule, and why it no longer holds."""

    model_config = ConfigDict(extra="forbid")

    rule_id: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=2000)


class FlagPublic(BaseModel):
    id: int
    rule_id: str
    outcome: str
    message: str
    raised_on: date
    intake_form_id: int | None
    lifted: bool
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None

    @classmethod
    def of(cls, flag: SafetyFlag) -> FlagPublic:
        return cls(
            id=flag.id,
            rule_id=flag.rule_id,
            outcome=flag.outcome,
            message=flag.message,
            raised_on=flag.raised_on,
            intake_form_id=flag.intake_form_id,
            lifted=flag.lifted_at is not None,
            lifted_at=flag.lifted_at,
            lifted_by=flag.lifted_by,
            lift_reason=flag.lift_reason,
        )


class AnswerChangePublic(BaseModel):
    question: str
    was: Any
    now: Any


class ScreeningVersion(BaseModel):
    version: int
    id: int
    screened_on: date
    recorded_at: datetime
    recorded_by: str | None
    outcome: str
    rules_version: str
    reasons: list[dict[str, Any]]
    answers: dict[str, Any]
    changes: list[AnswerChangePublic]


class HistoryPublic(BaseModel):
    """A client's safety history, newest screening first."""

    client_id: int
    full_name: str
    screenings: list[ScreeningVersion]
    flags: list[FlagPublic]
    consents: list[dict[str, Any]]
    clearances: list[dict[str, Any]]


class GatePublic(BaseModel):
    allowed: bool
    refusals: list[dict[str, Any]]
    avoid_zones: list[str]
    outcome: str
    rules_version: str


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str
    start: date
    weekdays: list[str] = Field(default_factory=list)
    months: int = Field(6, ge=1, le=36)
    protocol_name: str | None = Field(None, max_length=200)
    price_per_session: float | None = Field(None, ge=0)


class PlanSession(BaseModel):
    number: int | None
    date: date
    phase: str | None
    checkin: bool
    status: str = Field(description="planned, done, cancelled or missed (as before the book)")
    state: str = Field(
        description="booked, confirmed, checked_in, in_treatment, completed, cancelled, no_show"
    )
    appointment_id: int


class PlanPublic(BaseModel):
    id: int
    client_id: int
    template: str
    protocol_name: str | None
    start: date
    weekdays: list[str]
    months: int
    estimated_cost: float | None
    sessions: list[PlanSession]


class SessionStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: int = Field(ge=1, le=MAX_ROW_ID)
    # a name from the library or the store, never a path: the server reads no file a request names
    protocol: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    device_url: str | None = None
    # the name of the station to run it on; by default the one that drives ``device_url``
    # (the clinic's device), or the only one registered
    device: str | None = Field(None, min_length=1, max_length=120)
    intensity: float = Field(1.0, gt=0, le=1)
    practitioner_max_ua: float | None = Field(None, ge=10, le=1000)


class LivePublic(BaseModel):
    id: str
    client_id: int
    protocol: str
    record_id: int
    station: str
    state: dict[str, Any]


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comfort: int | None = Field(None, ge=0, le=10)
    tingling: bool | None = None
    metallic_taste: bool | None = None
    redness: bool | None = None
    notes: str | None = Field(None, max_length=4000)


class RecordSummary(BaseModel):
    id: int
    client_id: int | None
    protocol: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    delivered_charge_uc: float


class ProtocolUpload(BaseModel):
    """A protocol file's TOML text, as an owner uploads it."""

    model_config = ConfigDict(extra="forbid")

    toml_text: str = Field(min_length=1, max_length=256 * 1024)


class ProtocolPublic(BaseModel):
    """A protocol a session may name: from the library, or stored by an owner."""

    name: str
    title: str
    version: str
    source: str
    content_hash: str
    uploaded_by: str | None = None
    uploaded_at: datetime | None = None


class ProgressPublic(BaseModel):
    """A progress entry with its photo as stored: metadata stripped, scaled down."""

    id: int
    client_id: int
    taken_on: date
    photo_sha256: str | None
    width_px: int | None
    height_px: int | None
    notes: str
    view: str | None = None
    lighting_notes: str = ""
    photo_use_consent: bool = False
    measures: dict[str, float] | None = Field(
        None, description="Millimetres (and degrees, per cent), scaled by the iris or a sticker."
    )
    pose: dict[str, float] | None = None
    quality: float | None = None
    comparable: bool | None = Field(
        None, description="False when the pose is outside the view's tolerance: see flags."
    )
    flags: list[str] = []
    scale_source: str | None = Field(
        None,
        description="What set the millimetre scale: 'sticker' (the calibration sticker, when in "
        "view) or 'iris' (its diameter, 11.77 mm).",
    )
    mm_per_px: float | None = None
    unmeasured: str | None = Field(None, description="Why a photo with a view has no measures.")

    @classmethod
    def of(cls, entry: ProgressEntry, photo: PreparedPhoto | None) -> ProgressPublic:
        measurement = entry.measurement or {}
        scale = measurement.get("scale") or {}
        return cls(
            id=entry.id,
            client_id=entry.client_id,
            taken_on=entry.taken_on,
            photo_sha256=entry.photo_sha256,
            width_px=photo.width_px if photo else None,
            height_px=photo.height_px if photo else None,
            notes=entry.notes,
            view=entry.view,
            lighting_notes=entry.lighting_notes,
            photo_use_consent=entry.photo_use_consent,
            measures=measurement.get("measures"),
            pose=measurement.get("pose"),
            quality=measurement.get("quality"),
            comparable=measurement.get("comparable"),
            flags=measurement.get("flags", []),
            scale_source=scale.get("source"),
            mm_per_px=scale.get("mm_per_px"),
            unmeasured=entry.unmeasured,
        )


class StaffPublic(BaseModel):
    """Someone who signs in: role, whether they may, and how."""

    id: int
    email: str
    display_name: str
    role: str
    active: bool
    two_factor: bool
    must_change_password: bool
    working_hours: dict[str, list[list[str]]] | None = Field(
        description="when they can be booked, weekday: [[from, to], ...]; null: the clinic's hours"
    )


class StaffCreated(StaffPublic):
    """A new user and their temporary password, shown this once: hand it over, they replace
    it at their first sign-in."""

    temporary_password: str


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(
        default="practitioner", max_length=20, description="owner, practitioner or reception"
    )


class StaffChange(BaseModel):
    """What to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(
        default=None, max_length=20, description="owner, practitioner or reception"
    )
    active: bool | None = None
    working_hours: dict[str, list[list[str]]] | None = Field(
        default=None,
        description='when an owner or practitioner can be booked, such as {"mon": [["09:00", '
        '"13:00"]]} (a weekday left out: not working); null: the clinic\'s opening hours',
    )


class SessionsEnded(BaseModel):
    ended: int


class RoomPublic(BaseModel):
    id: int
    name: str
    station_name: str | None
    active: bool


class ServiceStep(BaseModel):
    name: str
    minutes: int
    kind: str


class ServicePublic(BaseModel):
    id: int
    name: str
    description: str = Field(description="what the public booking page says of it")
    duration_min: int
    buffer_min: int
    price_minor: int = Field(description="in cents (minor units) of `currency`")
    currency: str
    protocol_name: str | None
    steps: list[ServiceStep]
    active: bool


class RoomChange(BaseModel):
    """What to change of a room; a field left out stays (``station_name`` null: no station)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=120)
    station_name: str | None = Field(None, max_length=120)
    active: bool | None = None


class ServiceChange(BaseModel):
    """What to change of a service; a field left out stays (``protocol_name`` null: none).
    A new duration or buffer applies to bookings made from then on: visits already booked
    keep their times."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    duration_min: int | None = Field(None, description="5-480")
    buffer_min: int | None = Field(None, description="0-120")
    price_minor: int | None = Field(None, description="0 or more, in cents (minor units)")
    protocol_name: str | None = Field(None, max_length=200)
    steps: list[ServiceStep] | None = None
    active: bool | None = None


class BookingCreate(BaseModel):
    """A booking; ``start`` is the clinic's wall-clock time (its zone), ISO 8601."""

    client_id: int = Field(ge=1, le=2147483647)
    service_id: int = Field(ge=1, le=2147483647)
    room_id: int = Field(ge=1, le=2147483647)
    practitioner_id: int = Field(ge=1, le=2147483647)
    start: datetime
    duration_min: int | None = Field(None, ge=5, le=480)
    notes: str | None = Field(None, max_length=2000)


class BookingChange(BaseModel):
    """A move (``start``, ``room_id``, ``practitioner_id``), a resize (``duration_min``) or a
    new ``state`` (confirmed, checked_in, cancelled, no_show, completed); what is left out stays."""

    start: datetime | None = None
    room_id: int | None = Field(None, ge=1, le=2147483647)
    practitioner_id: int | None = Field(None, ge=1, le=2147483647)
    duration_min: int | None = Field(None, ge=5, le=480)
    state: str | None = Field(None, max_length=20)


class BookingPublic(BaseModel):
    id: int
    client_id: int
    service_id: int | None
    room_id: int | None
    practitioner_id: int | None
    start: datetime | None = Field(description="in the clinic's zone, with its offset")
    end: datetime | None
    date: date
    state: str
    plan_id: int | None
    series_id: str | None
    treatment_session_id: int | None


class OnlineService(BaseModel):
    """A service as the public booking page offers it: no buffer, protocol or steps."""

    id: int
    name: str
    description: str
    duration_min: int
    price_minor: int = Field(description="in minor units of `currency` (cents; yen have none)")
    currency: str = Field(description="ISO 4217")


class OnlinePractitioner(BaseModel):
    id: int
    name: str


class OnlineServices(BaseModel):
    """The clinic, what it offers and who gives it."""

    clinic: str
    address: str
    time_zone: str = Field(description="IANA; every time shown is the clinic's")
    opening_hours: dict[str, list[list[str]]] = Field(
        description='weekday: [[opens, closes], ...], such as {"mon": [["09:00", "18:00"]]}'
    )
    services: list[OnlineService]
    practitioners: list[OnlinePractitioner]


class FreeSlotPublic(BaseModel):
    start: datetime = Field(description="ISO 8601 with the clinic's offset")
    practitioner_id: int


class FreeSlots(BaseModel):
    """Free starts of a service, earliest first."""

    service_id: int
    time_zone: str
    slots: list[FreeSlotPublic]
