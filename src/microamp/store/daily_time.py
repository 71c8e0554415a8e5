"""Time in a day for a person the home profile governs: what she has used today, on every
interface, and the one check every start crosses.

A person with a home account is governed by the home profile's ``max_daily_s`` (20 min),
whatever starts her session: the home app's guide or device mode, the API, the CLI or the
clinic's console. Her day is the clinic's (the household's) time zone. Today's time is the sum
of her guided logs (the seconds the phone reports) and of her device records by what they
delivered; a device session still under way counts its whole planned time, since it may yet
deliver all of it.

A check and the start it admits are one step (`claim_daily_time`, in the transaction that
opens the record): the person's row is locked first (PostgreSQL), or the database's one write
lock taken (SQLite), so two stations starting her at once, in one household or on a
clinic-linked account, are counted one after the other and never together pass her day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.clinic.home_regimen import daily_time_refusal
from microamp.protocols.schema import PlannedStep
from microamp.safety.limits import LimitProfile, get_profile
from microamp.store.book_setup import get_settings
from microamp.store.home_models import HomeAccount, HomeSession
from microamp.store.session_models import SessionEvent, TreatmentSession

__all__ = [
    "check_daily_time",
    "claim_daily_time",
    "client_day",
    "daily_profile",
    "device_seconds_on",
    "guided_seconds_on",
    "planned_seconds",
    "seconds_used_on",
]


def daily_profile(session: Session, *, client_id: int) -> LimitProfile | None:
    """The home profile for a person with a home account (her day is capped), else None."""
    governed = session.scalar(select(HomeAccount.id).where(HomeAccount.client_id == client_id))
    return get_profile("home") if governed is not None else None


def client_day(session: Session, *, now: datetime) -> date:
    """The calendar day of ``now`` (timezone-aware) in the clinic's time zone."""
    return now.astimezone(clinic_zone(get_settings(session).time_zone)).date()


def _day_bounds(session: Session, day: date) -> tuple[datetime, datetime]:
    zone = clinic_zone(get_settings(session).time_zone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def guided_seconds_on(session: Session, *, client_id: int, day: date) -> float:
    """Seconds of her guided routines logged for ``day`` (device-connected logs are counted by
    their device record instead, so nothing counts twice)."""
    total = session.scalar(
        select(func.coalesce(func.sum(HomeSession.seconds_done), 0.0)).where(
            HomeSession.client_id == client_id,
            HomeSession.on_date == day,
            HomeSession.mode == "guided",
        )
    )
    return float(total or 0.0)


def device_seconds_on(session: Session, *, client_id: int, day: date) -> float:
    """Seconds her device records of ``day`` delivered (or may still deliver, while running)."""
    start, end = _day_bounds(session, day)
    records = session.scalars(
        select(TreatmentSession).where(
            TreatmentSession.client_id == client_id,
            TreatmentSession.started_at >= start,
            TreatmentSession.started_at < end,
            TreatmentSession.status != "refused",
        )
    ).all()
    return sum(_record_seconds(session, record) for record in records)


def _record_seconds(session: Session, record: TreatmentSession) -> float:
    """A closed record: the stimulation time its summary kept, else the furthest session time
    any of its events reached (an upper bound: an interrupted record has no summary). A running
    one: the larger of its planned time and the time it has reached."""
    reached_s = float(
        session.scalar(
            select(func.coalesce(func.max(SessionEvent.t_s), 0.0)).where(
                SessionEvent.session_id == record.id
            )
        )
        or 0.0
    )
    if record.status != "running":
        kept = record.delivered_settings.get("stimulation_s")
        return _number(kept) if kept is not None else reached_s
    started = session.scalar(
        select(SessionEvent.data).where(
            SessionEvent.session_id == record.id, SessionEvent.kind == "started"
        )
    )
    if started is None:  # still starting: what it planned, else a whole home session
        planned = record.delivered_settings.get("planned_s")
        if planned is None:
            return max(reached_s, get_profile("home").max_session_s.value)
        return max(reached_s, _number(planned))
    return max(reached_s, _number(started.get("planned_duration_s")))


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def seconds_used_on(session: Session, *, client_id: int, day: date) -> float:
    """All her time on ``day``: guided logs plus device records."""
    return guided_seconds_on(session, client_id=client_id, day=day) + device_seconds_on(
        session, client_id=client_id, day=day
    )


def planned_seconds(steps: Iterable[PlannedStep]) -> float:
    """The time a routine asks for: every step, every repetition, every side."""
    return sum(step.duration_s for step in steps)


def check_daily_time(session: Session, *, client_id: int, planned_s: float, on: date) -> None:
    """Raises `InvalidValue` (field ``routine``, the routine's minutes, the rule with what is
    used and left and the limit's source) when a routine of ``planned_s`` would take a person
    the home profile governs past its ``max_daily_s`` on day ``on``; nothing for anyone else."""
    profile = daily_profile(session, client_id=client_id)
    if profile is None:
        return
    used_s = seconds_used_on(session, client_id=client_id, day=on)
    refusal = daily_time_refusal(
        used_s=used_s,
        routine_s=planned_s,
        max_daily_s=profile.max_daily_s.value,
        source=profile.max_daily_s.source,
    )
    if refusal is not None:
        raise refusal


def lock_client(session: Session, *, client_id: int) -> None:
    """Hold her client row until the transaction ends (PostgreSQL: ``FOR UPDATE``; SQLite: a
    no-op write takes the database's write lock), so a check-then-write of hers is one step."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE clients SET id = id WHERE id = :id"), {"id": client_id})
    else:
        session.execute(text("SELECT id FROM clients WHERE id = :id FOR UPDATE"), {"id": client_id})


def claim_daily_time(session: Session, *, client_id: int, planned_s: float, on: date) -> None:
    """`check_daily_time` as the first step of the transaction that writes the start's record:
    her client row is locked (PostgreSQL: ``FOR UPDATE``; SQLite: a no-op write takes the write
    lock before anything is read), so another start of hers waits until this one's record is
    there to count, or this one is refused."""
    if daily_profile(session, client_id=client_id) is None:
        return
    lock_client(session, client_id=client_id)
    check_daily_time(session, client_id=client_id, planned_s=planned_s, on=on)
