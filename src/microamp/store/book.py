"""The appointment book: book, move, resize and change the state of appointments.

Every path that puts an appointment at a time (a new booking, a move, a resize, a plan's
session timed, a weekly series) crosses `check_slot` after `_lock_for_booking`: the room, the
practitioner and the client are locked first (a row lock on PostgreSQL, the database's write
lock on SQLite), so two bookings made at once see each other and cannot both take a slot.
A refusal is `Conflict` (``kind`` room, practitioner, client, hours or closure, and the reason
in words); a bad value is `InvalidValue`.

    with store.transaction() as session:
        visit = book_appointment(session, client_id=c, service_id=s, room_id=r,
                                 practitioner_id=p, start=datetime(2026, 12, 7, 10, 0))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select, text
from sqlalchemy.orm import Session, aliased

from microamp.clinic.booking import (
    ACTIVE_STATES,
    Hours,
    check_transition,
    clinic_zone,
    closure_reason,
    hours_reason,
    local_to_utc,
    parse_hours,
    working_reason,
)
from microamp.errors import Conflict, InvalidValue
from microamp.store.book_models import ClinicSettings, Room, Service
from microamp.store.book_setup import clinic_hours, closure_days, get_settings
from microamp.store.crud import get_or_404
from microamp.store.models import Appointment, Client, User

__all__ = [
    "CompletionHook",
    "MOVABLE_STATES",
    "add_completion_hook",
    "appointments_between",
    "book_appointment",
    "book_series",
    "check_merge",
    "check_slot",
    "complete_for_session",
    "get_appointment",
    "link_session",
    "move_appointment",
    "on_appointment_completed",
    "schedule_appointment",
    "set_state",
    "to_utc",
]

MOVABLE_STATES = ("booked", "confirmed", "checked_in")
CLINICAL_ROLES = ("owner", "practitioner")
MAX_SERIES_WEEKS = 52
_UNSET: Any = object()

CompletionHook = Callable[[Session, Appointment], None]
_completion_hooks: list[CompletionHook] = []


def add_completion_hook(hook: CompletionHook) -> None:
    """Call ``hook(session, appointment)`` whenever an appointment completes (in the same
    transaction), e.g. to consume a package credit. Added once per hook."""
    if hook not in _completion_hooks:
        _completion_hooks.append(hook)


def on_appointment_completed(session: Session, appointment: Appointment) -> None:
    """What follows an appointment's completion: every hook added with `add_completion_hook`."""
    for hook in list(_completion_hooks):
        hook(session, appointment)


def get_appointment(session: Session, *, appointment_id: int) -> Appointment:
    return get_or_404(session, Appointment, appointment_id)


def to_utc(settings: ClinicSettings, start: datetime) -> datetime:
    """``start`` as a UTC instant: a naive time is the clinic's wall clock."""
    return local_to_utc(start, clinic_zone(settings.time_zone))


def _whole_minutes(start: datetime) -> datetime:
    if start.second or start.microsecond:
        raise InvalidValue("start", start.isoformat(), "a time in whole minutes")
    return start


def _lock_for_booking(
    session: Session, *, room_ids: Iterable[int], user_ids: Iterable[int], client_ids: Iterable[int]
) -> None:
    """Serialise bookings that could collide. PostgreSQL: row locks in one order (rooms, then
    users, then clients, each by id) so two bookings never wait on each other in a circle.
    SQLite: a no-op write takes the database's one write lock before anything is read (the
    driver opens its transaction at the first write, so no older snapshot is held)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE clinic_settings SET id = id WHERE id = 1"))
        return
    for table, ids in (("rooms", room_ids), ("users", user_ids), ("clients", client_ids)):
        for row_id in sorted(set(ids)):
            session.execute(
                text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"),
                {"id": row_id},
            )


def _local(settings: ClinicSettings, at: datetime) -> datetime:
    return at.astimezone(clinic_zone(settings.time_zone))


def _span(settings: ClinicSettings, a: Appointment) -> str:
    assert a.starts_at is not None and a.ends_at is not None
    return f"{_local(settings, a.starts_at):%H:%M}-{_local(settings, a.ends_at):%H:%M}"


def working_hours(user: User) -> Hours | None:
    """When ``user`` can be booked, or None for the clinic's opening hours."""
    if user.working_hours is None:
        return None
    return parse_hours(user.working_hours, name="working_hours")


def check_slot(
    session: Session,
    *,
    settings: ClinicSettings,
    starts_at: datetime,
    ends_at: datetime,
    clear_at: datetime,
    room_id: int,
    practitioner_id: int,
    client_id: int,
    exclude_id: int | None = None,
) -> None:
    """Raise `Conflict` unless the span fits: inside opening hours, not on a closure, and the
    room, the practitioner and the client free from ``starts_at`` until ``clear_at`` (the end
    plus the buffer), every other appointment's buffer counted too."""
    start_local, end_local = _local(settings, starts_at), _local(settings, ends_at)
    day = start_local.date()
    closed = closure_reason(closure_days(session, first=day, last=day), day)
    if closed is not None:
        raise Conflict("closure", closed)
    if end_local.date() != day and end_local.time() != datetime.min.time():
        raise Conflict("hours", "an appointment starts and ends on the same day")
    outside = hours_reason(clinic_hours(settings), start_local, end_local)
    if outside is not None:
        raise Conflict("hours", outside)
    practitioner = session.get(User, practitioner_id)
    own = None if practitioner is None else working_hours(practitioner)
    if practitioner is not None and own is not None:
        off = working_reason(own, start_local, end_local, practitioner.display_name)
        if off is not None:
            raise Conflict("practitioner", off)
    for kind, column, value in (
        ("room", Appointment.room_id, room_id),
        ("practitioner", Appointment.practitioner_id, practitioner_id),
        ("client", Appointment.client_id, client_id),
    ):
        query = (
            select(Appointment)
            .where(
                column == value,
                Appointment.state.in_(ACTIVE_STATES),
                Appointment.starts_at < clear_at,
                Appointment.clear_at > starts_at,
            )
            .order_by(Appointment.starts_at)
            .limit(1)
        )
        if exclude_id is not None:
            query = query.where(Appointment.id != exclude_id)
        other = session.scalar(query)
        if other is not None:
            raise Conflict(kind, _conflict_reason(session, settings, kind, other))


def check_merge(session: Session, *, keep_id: int, duplicate_id: int) -> None:
    """Raise `Conflict` if merging would leave the kept client booked twice at once: a live
    appointment of hers and one of the duplicate's that overlap (buffers counted, as
    `check_slot` counts them). Either must be cancelled or moved first; the book never
    holds a client in two places. Locks both clients as a booking does, so no booking made
    during the merge slips past this check."""
    _lock_for_booking(session, room_ids=(), user_ids=(), client_ids=(keep_id, duplicate_id))
    kept, other = aliased(Appointment), aliased(Appointment)
    clash = session.execute(
        select(kept, other)
        .where(
            kept.client_id == keep_id,
            other.client_id == duplicate_id,
            kept.state.in_(ACTIVE_STATES),
            other.state.in_(ACTIVE_STATES),
            kept.starts_at < other.clear_at,
            kept.clear_at > other.starts_at,
        )
        .order_by(kept.starts_at)
        .limit(1)
    ).first()
    if clash is None:
        return
    settings = get_settings(session)
    first, second = clash
    assert first.starts_at is not None
    day = f"{_local(settings, first.starts_at):%Y-%m-%d}"
    raise Conflict(
        "client",
        f"client {keep_id} is booked {day} {_span(settings, first)} (appointment {first.id}) "
        f"and client {duplicate_id} {_span(settings, second)} (appointment {second.id}): "
        "cancel or move one before merging",
        refused="These clients cannot be merged",
    )


def _conflict_reason(
    session: Session, settings: ClinicSettings, kind: str, other: Appointment
) -> str:
    span = _span(settings, other)
    if kind == "room":
        room = session.get(Room, other.room_id)
        return f"{room.name if room else 'the room'} is booked {span} (buffer included)"
    if kind == "practitioner":
        user = session.get(User, other.practitioner_id)
        who = user.display_name if user else "the practitioner"
        return f"{who} is with another client {span} (buffer included)"
    return f"the client already has an appointment {span}"


def active_service(session: Session, service_id: int) -> Service:
    """The service ``service_id`` if it can be booked, else `InvalidValue` naming it."""
    service = session.get(Service, service_id)
    if service is None or not service.active:
        raise InvalidValue("service_id", service_id, "an active service")
    return service


def _room(session: Session, room_id: int) -> Room:
    room = session.get(Room, room_id)
    if room is None or not room.active:
        raise InvalidValue("room_id", room_id, "an active room")
    return room


def _practitioner(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active or user.role not in CLINICAL_ROLES:
        raise InvalidValue("practitioner_id", user_id, "an active practitioner or owner")
    return user


def _client(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise InvalidValue("client_id", client_id, "a client on file")
    return client


def _duration(value: int | None, service: Service) -> int:
    if value is None:
        return service.duration_min
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 480:
        raise InvalidValue("duration_min", value, "a whole number of minutes, 5-480")
    return value


def _place(
    session: Session,
    appointment: Appointment,
    *,
    settings: ClinicSettings,
    service: Service,
    start_utc: datetime,
    duration_min: int,
    room_id: int,
    practitioner_id: int,
) -> None:
    """Check the slot and set the appointment's times, room and practitioner."""
    ends_at = start_utc + timedelta(minutes=duration_min)
    clear_at = ends_at + timedelta(minutes=service.buffer_min)
    check_slot(
        session,
        settings=settings,
        starts_at=start_utc,
        ends_at=ends_at,
        clear_at=clear_at,
        room_id=room_id,
        practitioner_id=practitioner_id,
        client_id=appointment.client_id,
        exclude_id=appointment.id,
    )
    appointment.service_id = service.id
    appointment.room_id = room_id
    appointment.practitioner_id = practitioner_id
    appointment.starts_at = start_utc
    appointment.ends_at = ends_at
    appointment.clear_at = clear_at
    appointment.on_date = _local(settings, start_utc).date()


def _notes(notes: str | None) -> str | None:
    if notes is None or not notes.strip():
        return None
    if len(notes) > 2000:
        raise InvalidValue("notes", notes[:40], "at most 2000 characters")
    return notes.strip()


def book_appointment(
    session: Session,
    *,
    client_id: int,
    service_id: int,
    room_id: int,
    practitioner_id: int,
    start: datetime,
    duration_min: int | None = None,
    booked_by_id: int | None = None,
    notes: str | None = None,
    series_id: str | None = None,
) -> Appointment:
    """Book ``client_id`` for the service at ``start`` (naive: the clinic's wall clock) in the
    room with the practitioner, for the service's duration unless ``duration_min`` is given.
    Raises `Conflict` (the slot) or `InvalidValue` (a value)."""
    _client(session, client_id)
    _lock_for_booking(
        session, room_ids=[room_id], user_ids=[practitioner_id], client_ids=[client_id]
    )
    settings = get_settings(session)
    service = active_service(session, service_id)
    _room(session, room_id)
    _practitioner(session, practitioner_id)
    appointment = Appointment(
        client_id=client_id,
        state="booked",
        checkin=False,
        booked_by_id=booked_by_id,
        notes=_notes(notes),
        series_id=series_id,
    )
    _place(
        session,
        appointment,
        settings=settings,
        service=service,
        start_utc=_whole_minutes(to_utc(settings, start)),
        duration_min=_duration(duration_min, service),
        room_id=room_id,
        practitioner_id=practitioner_id,
    )
    session.add(appointment)
    session.flush()
    return appointment


def book_series(
    session: Session, *, weeks: int, start: datetime, **booking: Any
) -> list[Appointment]:
    """Book the same slot weekly for ``weeks`` weeks (2-52), all or none: a week that does not
    fit raises its `Conflict`, its date in the reason, and nothing of the series is kept."""
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 2 <= weeks <= MAX_SERIES_WEEKS:
        raise InvalidValue("weeks", weeks, f"2-{MAX_SERIES_WEEKS} weeks")
    settings = get_settings(session)
    first = to_utc(settings, start).astimezone(clinic_zone(settings.time_zone))
    series_id = str(uuid4())
    booked: list[Appointment] = []
    for week in range(weeks):
        # the same wall-clock time each week, across a change of summer time
        local = (first + timedelta(weeks=week)).replace(tzinfo=None)
        try:
            booked.append(book_appointment(session, start=local, series_id=series_id, **booking))
        except (Conflict, InvalidValue) as exc:
            for appointment in booked:
                session.delete(appointment)
            session.flush()
            if isinstance(exc, Conflict):
                raise Conflict(exc.kind, f"{local:%Y-%m-%d}: {exc.reason}") from exc
            raise
    return booked


def schedule_appointment(
    session: Session,
    *,
    appointment_id: int,
    service_id: int,
    room_id: int,
    practitioner_id: int,
    start: datetime,
    booked_by_id: int | None = None,
) -> Appointment:
    """Give an appointment without a time (a course plan's session) its time, room and
    practitioner, through the same rules as a new booking."""
    appointment = get_appointment(session, appointment_id=appointment_id)
    if appointment.state not in MOVABLE_STATES:
        raise InvalidValue("state", appointment.state, "only a booked appointment is scheduled")
    _lock_for_booking(
        session,
        room_ids=[room_id],
        user_ids=[practitioner_id],
        client_ids=[appointment.client_id],
    )
    settings = get_settings(session)
    service = active_service(session, service_id)
    _room(session, room_id)
    _practitioner(session, practitioner_id)
    _place(
        session,
        appointment,
        settings=settings,
        service=service,
        start_utc=_whole_minutes(to_utc(settings, start)),
        duration_min=service.duration_min,
        room_id=room_id,
        practitioner_id=practitioner_id,
    )
    if booked_by_id is not None:
        appointment.booked_by_id = booked_by_id
    session.flush()
    return appointment


def move_appointment(
    session: Session,
    *,
    appointment_id: int,
    start: datetime = _UNSET,
    room_id: int = _UNSET,
    practitioner_id: int = _UNSET,
    duration_min: int = _UNSET,
) -> Appointment:
    """Move (a new ``start``, room or practitioner) or resize (``duration_min``) a booked
    appointment; what is not given stays. The same rules as a booking, itself left out."""
    appointment = get_appointment(session, appointment_id=appointment_id)
    if appointment.state not in MOVABLE_STATES:
        raise InvalidValue("state", appointment.state, "only a booked appointment is moved")
    if appointment.starts_at is None or appointment.service_id is None:
        raise InvalidValue("appointment_id", appointment_id, "an appointment with a time")
    assert appointment.ends_at is not None
    new_room = appointment.room_id if room_id is _UNSET else room_id
    new_user = appointment.practitioner_id if practitioner_id is _UNSET else practitioner_id
    assert new_room is not None and new_user is not None
    _lock_for_booking(
        session,
        room_ids={new_room, appointment.room_id or new_room},
        user_ids={new_user, appointment.practitioner_id or new_user},
        client_ids=[appointment.client_id],
    )
    settings = get_settings(session)
    service = session.get(Service, appointment.service_id)
    assert service is not None
    if room_id is not _UNSET:
        _room(session, room_id)
    if practitioner_id is not _UNSET:
        _practitioner(session, practitioner_id)
    current = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    start_utc = (
        appointment.starts_at if start is _UNSET else _whole_minutes(to_utc(settings, start))
    )
    _place(
        session,
        appointment,
        settings=settings,
        service=service,
        start_utc=start_utc.astimezone(UTC),
        duration_min=current if duration_min is _UNSET else _duration(duration_min, service),
        room_id=new_room,
        practitioner_id=new_user,
    )
    session.flush()
    return appointment


def set_state(session: Session, *, appointment_id: int, state: str) -> Appointment:
    """Move an appointment along its states (`microamp.clinic.booking.TRANSITIONS`), or
    `InvalidValue`. Completing it calls `on_appointment_completed`."""
    appointment = get_appointment(session, appointment_id=appointment_id)
    check_transition(appointment.state, state)
    if state == "in_treatment" and appointment.treatment_session_id is None:
        raise InvalidValue("state", state, "a treatment starts from its session (link_session)")
    appointment.state = state
    session.flush()
    if state == "completed":
        on_appointment_completed(session, appointment)
    return appointment


def link_session(
    session: Session, *, appointment_id: int, treatment_session_id: int
) -> Appointment:
    """The session started from the appointment: linked, and the appointment is
    ``in_treatment`` (a client not yet checked in is checked in on the way)."""
    appointment = get_appointment(session, appointment_id=appointment_id)
    if appointment.state in ("booked", "confirmed"):
        check_transition(appointment.state, "checked_in")
        appointment.state = "checked_in"
    check_transition(appointment.state, "in_treatment")
    appointment.treatment_session_id = treatment_session_id
    appointment.state = "in_treatment"
    session.flush()
    return appointment


def complete_for_session(session: Session, *, treatment_session_id: int) -> Appointment | None:
    """The record ``treatment_session_id`` completed: its appointment, if one is in
    treatment with it, completes too. None when there is none."""
    appointment = session.scalar(
        select(Appointment).where(
            Appointment.treatment_session_id == treatment_session_id,
            Appointment.state == "in_treatment",
        )
    )
    if appointment is None:
        return None
    return set_state(session, appointment_id=appointment.id, state="completed")


def appointments_between(
    session: Session,
    *,
    first: datetime,
    last: datetime,
    room_id: int | None = None,
    practitioner_id: int | None = None,
    client_id: int | None = None,
    include_inactive: bool = True,
) -> list[Appointment]:
    """Timed appointments starting in ``[first, last)`` (aware), in start order."""
    query = (
        select(Appointment)
        .where(Appointment.starts_at >= first, Appointment.starts_at < last)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if room_id is not None:
        query = query.where(Appointment.room_id == room_id)
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if client_id is not None:
        query = query.where(Appointment.client_id == client_id)
    if not include_inactive:
        query = query.where(Appointment.state.in_(ACTIVE_STATES))
    return list(session.scalars(query))
