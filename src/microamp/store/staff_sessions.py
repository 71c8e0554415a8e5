"""Signed-in sessions of staff, kept in the store, so signing out really ends them.

A session is a row named by the SHA-256 of a random id (256 bits); the browser's signed cookie
carries the id itself, the store never does, so a copy of the database opens no session. A
session ends when it is signed out, when it is left idle longer than the idle timeout, when it
reaches its absolute lifetime, when its user is disabled, or when the user (or an owner) ends
every session of that user. An ended row is kept (when, why) until `forget_ended_sessions`.

``stage`` is how far the sign-in got: ``second_factor`` (the password was right, the code is
still owed), ``change_password`` (a temporary password must be replaced), ``enrol`` (the clinic
asks for two-factor and the user has none yet), then ``signed_in``. Only ``signed_in`` opens
the clinic's pages; each other stage opens its own step page only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.errors import InvalidValue
from microamp.store.base import Base, UTCDateTime

__all__ = [
    "SIGNED_IN",
    "STAGES",
    "SessionRules",
    "StaffSession",
    "end_session",
    "end_user_sessions",
    "find_live_session",
    "forget_ended_sessions",
    "live_sessions",
    "look_up_session",
    "set_stage",
    "start_session",
]

SIGNED_IN = "signed_in"
STAGES = ("second_factor", "change_password", "enrol", SIGNED_IN)
# last_seen_at is written at most this often per session: the idle timeout is minutes long,
# a write on every request would only load the database
_TOUCH_EVERY = timedelta(seconds=30)


class StaffSession(Base):
    """One signed-in browser: whose, how far signed in, its CSRF token, and its times."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    csrf: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(40))


@dataclass(frozen=True, slots=True)
class SessionRules:
    """How long a session lives: ``idle_s`` without a request, ``lifetime_s`` in all."""

    idle_s: int
    lifetime_s: int


def _hash(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode("utf-8")).hexdigest()


def start_session(
    db: Session,
    *,
    user_id: int,
    stage: str,
    address: str,
    rules: SessionRules,
    now: datetime,
) -> tuple[StaffSession, str]:
    """A new session of ``user_id``: the row, and the raw id for the cookie (never stored)."""
    if stage not in STAGES:
        raise InvalidValue("stage", stage, f"must be one of {', '.join(STAGES)}")
    raw_id = secrets.token_urlsafe(32)
    row = StaffSession(
        id_hash=_hash(raw_id),
        user_id=user_id,
        stage=stage,
        csrf=secrets.token_urlsafe(32),
        address=address[:64],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=rules.lifetime_s),
    )
    db.add(row)
    db.flush()
    return row, raw_id


def _end(db: Session, row: StaffSession, reason: str, now: datetime) -> None:
    # compare-and-set: of two requests ending the same session, one writes the reason
    db.execute(
        update(StaffSession)
        .where(StaffSession.id == row.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )


def look_up_session(
    db: Session, raw_id: str, *, rules: SessionRules, now: datetime
) -> tuple[StaffSession | None, str | None]:
    """The session ``raw_id`` names and whether it is live: (the row, None) while it is, its
    last-seen time moved to ``now``; (the row, why) when it is found idle or past its lifetime
    and ended here; (None, None) for a session unknown or ended before. The caller commits."""
    row = db.scalar(select(StaffSession).where(StaffSession.id_hash == _hash(raw_id)))
    if row is None or row.ended_at is not None:
        return None, None
    if now >= row.expires_at:
        _end(db, row, "lifetime", now)
        return row, "lifetime"
    if now - row.last_seen_at > timedelta(seconds=rules.idle_s):
        _end(db, row, "idle", now)
        return row, "idle"
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return row, None


def find_live_session(
    db: Session, raw_id: str, *, rules: SessionRules, now: datetime
) -> StaffSession | None:
    """The session ``raw_id`` names if it is still live (see `look_up_session`), else None."""
    row, ended = look_up_session(db, raw_id, rules=rules, now=now)
    return row if ended is None else None


def set_stage(db: Session, row: StaffSession, stage: str) -> None:
    """Move a live session on to its next sign-in stage."""
    if stage not in STAGES:
        raise InvalidValue("stage", stage, f"must be one of {', '.join(STAGES)}")
    row.stage = stage
    db.flush()


def end_session(db: Session, row: StaffSession, *, reason: str, now: datetime) -> None:
    """End one session (signed out, say)."""
    _end(db, row, reason, now)


def end_user_sessions(
    db: Session, *, user_id: int, reason: str, now: datetime, keep_id: int | None = None
) -> int:
    """End every live session of ``user_id`` (except ``keep_id``); how many were ended."""
    query = update(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)
    )
    if keep_id is not None:
        query = query.where(StaffSession.id != keep_id)
    result = db.execute(query.values(ended_at=now, ended_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(
    db: Session, *, user_id: int, rules: SessionRules, now: datetime
) -> list[StaffSession]:
    """The user's sessions that would still open a page now, newest first."""
    idle_since = now - timedelta(seconds=rules.idle_s)
    return list(
        db.scalars(
            select(StaffSession)
            .where(
                StaffSession.user_id == user_id,
                StaffSession.ended_at.is_(None),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at >= idle_since,
            )
            .order_by(StaffSession.id.desc())
        )
    )


def forget_ended_sessions(db: Session, *, before: datetime) -> int:
    """Delete rows of sessions that ended (or expired) before ``before``; how many."""
    result = db.execute(
        delete(StaffSession).where(
            (StaffSession.ended_at < before) | (StaffSession.expires_at < before)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
