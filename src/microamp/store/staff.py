"""Staff administration: roles, disabling, password resets, two-factor secrets and recovery
codes, and the clinic's two-factor policy.

The one rule an owner cannot break: the clinic keeps at least one active owner. Disabling,
demoting or resetting the last one raises `LastOwner` (409), checked under a lock on the owners'
rows (PostgreSQL) or SQLite's write lock, so two owners demoting each other at once cannot both
succeed.

Recovery codes are random (80 bits), shown once and stored as their SHA-256; each opens one
sign-in. A slow hash adds nothing for secrets of that entropy.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    false,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.clinic.booking import hours_as_json, parse_hours
from microamp.errors import InvalidValue, NotFound, StoreError
from microamp.store.base import Base, UTCDateTime
from microamp.store.crud import create_user
from microamp.store.models import ROLES, User
from microamp.store.staff_sessions import end_user_sessions
from microamp.store.throttle import clear_key, throttle_key

__all__ = [
    "RECOVERY_CODES",
    "POLICY_ROLES",
    "LastOwner",
    "TwoFactorRequired",
    "add_staff",
    "RecoveryCode",
    "StaffPolicy",
    "claim_totp_step",
    "confirm_two_factor",
    "find_user",
    "list_staff",
    "new_recovery_codes",
    "remove_two_factor",
    "require_two_factor",
    "reset_password",
    "set_active",
    "set_password",
    "set_role",
    "set_two_factor_policy",
    "start_two_factor",
    "turn_off_two_factor",
    "use_recovery_code",
]

RECOVERY_CODES = 10
# the roles the clinic's two-factor policy covers: those who open health records
POLICY_ROLES = frozenset({"owner", "practitioner"})


class LastOwner(StoreError):
    """The change would leave the clinic without an active owner (409)."""


class TwoFactorRequired(StoreError):
    """The clinic requires two-factor sign-in for the user's role (409)."""


class RecoveryCode(Base):
    """One single-use recovery code of a user: its SHA-256, and when it was used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffPolicy(Base):
    """The clinic's rules for signing in: one row (id 1)."""

    __tablename__ = "staff_policy"
    __table_args__ = (CheckConstraint("id = 1", "single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # every clinical role (owner, practitioner) signs in with a second factor
    require_two_factor: Mapped[bool] = mapped_column(Boolean, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(254))


# -- finding staff -----------------------------------------------------------------------------


def find_user(db: Session, *, email: str) -> User:
    """The user signing in with ``email`` (any case); `InvalidValue` naming ``email`` if none."""
    user = db.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise InvalidValue("email", email, "no user has this address")
    return user


def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def list_staff(db: Session) -> list[User]:
    """Every user, owners first, then by address."""
    order = {role: n for n, role in enumerate(ROLES)}
    return sorted(db.scalars(select(User)), key=lambda u: (order.get(u.role, 9), u.email))


# -- the last owner ----------------------------------------------------------------------------


def _lock_owners(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            select(User.id).where(User.role == "owner", User.active.is_(True)).with_for_update()
        )
    else:  # an empty write takes SQLite's write lock for the rest of the transaction
        db.execute(update(User).where(false()).values(active=User.active))


def _refuse_last_owner(db: Session, user: User, what: str) -> None:
    if user.role != "owner" or not user.active:
        return
    _lock_owners(db)
    others = db.scalar(
        select(func.count(User.id)).where(
            User.role == "owner", User.active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise LastOwner(f"{user.email} is the clinic's last active owner: {what}")


# -- the owner's changes -----------------------------------------------------------------------


def add_staff(db: Session, *, email: str, display_name: str, role: str, password_hash: str) -> User:
    """A new user with a temporary password (its hash), to be replaced at the first sign-in;
    `InvalidValue` naming ``email``, ``display_name`` or ``role``."""
    name = display_name.strip() or email.split("@")[0]
    user = create_user(db, email=email, display_name=name, role=role, password_hash=password_hash)
    user.must_change_password = True
    db.flush()
    return user


def set_role(db: Session, *, user_id: int, role: str) -> User:
    """Give a user another role; refuses to demote the last active owner."""
    if role not in ROLES:
        raise InvalidValue("role", role, f"must be one of {', '.join(ROLES)}")
    user = _user(db, user_id)
    if role != "owner":
        _refuse_last_owner(db, user, "make another user owner first")
    user.role = role
    db.flush()
    return user


def set_working_hours(db: Session, *, user_id: int, hours: Mapping[str, Any] | None) -> User:
    """Set when an owner or practitioner can be booked, shaped as the clinic's opening hours
    (`microamp.clinic.booking.parse_hours`; a weekday missing: not working), or None for the
    clinic's hours. Appointments already booked stay; the book refuses new ones outside."""
    user = _user(db, user_id)
    if hours is not None and user.role not in ("owner", "practitioner"):
        raise InvalidValue("working_hours", user.role, "only owners and practitioners are booked")
    user.working_hours = None if hours is None else hours_as_json(
        parse_hours(hours, name="working_hours"))  # fmt: skip
    db.flush()
    return user


def set_active(db: Session, *, user_id: int, active: bool, now: datetime) -> User:
    """Enable or disable a user. Disabling ends every session at once; the user's API tokens
    stop working with the next request (they are refused for an inactive user)."""
    user = _user(db, user_id)
    if not active:
        _refuse_last_owner(db, user, "the clinic would have no owner left")
        end_user_sessions(db, user_id=user.id, reason="disabled", now=now)
    user.active = active
    db.flush()
    return user


def reset_password(db: Session, *, user_id: int, password_hash: str, now: datetime) -> User:
    """Give a user a temporary password (its hash): it must be changed at the next sign-in.
    Every session of the user ends."""
    user = _user(db, user_id)
    user.password_hash = password_hash
    user.must_change_password = True
    end_user_sessions(db, user_id=user.id, reason="password reset", now=now)
    # a locked-out user gets back in with the new password at once
    clear_key(db, throttle_key("account", user.email), now=now)
    db.flush()
    return user


def set_password(
    db: Session, *, user: User, password_hash: str, now: datetime, keep_session: int | None
) -> None:
    """The user's own new password: every other session of theirs ends."""
    user.password_hash = password_hash
    user.must_change_password = False
    end_user_sessions(db, user_id=user.id, reason="password changed", now=now, keep_id=keep_session)
    db.flush()


# -- two-factor --------------------------------------------------------------------------------


def start_two_factor(db: Session, *, user: User, secret: str) -> None:
    """Keep a new, not yet confirmed TOTP secret for ``user`` (replacing a pending one)."""
    if user.two_factor:
        raise InvalidValue("two_factor", "on", "two-factor sign-in is already set up")
    user.totp_secret = secret
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.flush()


def confirm_two_factor(db: Session, *, user: User, step: int, now: datetime) -> list[str]:
    """Turn the pending secret on (its first code was right, at time step ``step``); returns
    the new recovery codes, shown once."""
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = new_recovery_codes(db, user_id=user.id, now=now)
    db.flush()
    return codes


def remove_two_factor(db: Session, *, user_id: int, now: datetime) -> User:
    """Take a user's second factor away (a lost phone and lost codes): they enrol again."""
    user = _user(db, user_id)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    db.flush()
    return user


def turn_off_two_factor(db: Session, *, user: User, now: datetime) -> None:
    """The user's own choice to sign in with a password alone; refused while the clinic
    requires two-factor for their role."""
    if require_two_factor(db) and user.role in POLICY_ROLES:
        raise TwoFactorRequired(f"the clinic requires two-factor sign-in for the {user.role} role")
    remove_two_factor(db, user_id=user.id, now=now)


def claim_totp_step(db: Session, *, user_id: int, step: int) -> bool:
    """Record ``step`` as the user's last accepted time step, if it is later than the last one;
    False when it is not (the code was used already). One statement: two requests with the
    same code cannot both win."""
    result = db.execute(
        update(User)
        .where(
            User.id == user_id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(getattr(result, "rowcount", 0))


def _code_hash(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(cleaned.encode("utf-8")).hexdigest()


def _new_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    raw = "".join(secrets.choice(alphabet) for _ in range(16))  # ~79 bits
    return "-".join(raw[n : n + 4] for n in range(0, 16, 4))


def new_recovery_codes(db: Session, *, user_id: int, now: datetime) -> list[str]:
    """Ten fresh recovery codes for the user (the old ones stop working)."""
    db.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    codes = [_new_code() for _ in range(RECOVERY_CODES)]
    db.add_all(
        RecoveryCode(user_id=user_id, code_hash=_code_hash(c), created_at=now) for c in codes
    )
    db.flush()
    return codes


def use_recovery_code(db: Session, *, user_id: int, code: str, now: datetime) -> bool:
    """Spend one of the user's recovery codes; False if it is not one or was used before."""
    result = db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


# -- the policy --------------------------------------------------------------------------------


def require_two_factor(db: Session) -> bool:
    """Whether the clinic asks every clinical role for a second factor."""
    row = db.get(StaffPolicy, 1)
    return bool(row and row.require_two_factor)


def set_two_factor_policy(db: Session, *, required: bool, by: str, now: datetime) -> None:
    """Ask (or stop asking) every clinical role for a second factor at sign-in."""
    row = db.get(StaffPolicy, 1)
    if row is None:
        row = StaffPolicy(id=1, require_two_factor=required, updated_at=now, updated_by=by)
        db.add(row)
    else:
        row.require_two_factor = required
        row.updated_at = now
        row.updated_by = by
    db.flush()
