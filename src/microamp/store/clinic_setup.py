"""The first run of a clinic: a one-time setup link, the first owner, the clinic's settings.

A clinic started on an empty database (no users) has nobody who can sign in. `microamp serve`
then issues a setup token: random (256 bits), stored only as its SHA-256, valid for an hour,
good for one claim, and superseding any earlier unused one. Claiming it creates the owner and
the clinic's settings (name and time zone) in one transaction with its audit row; once the
clinic has a user, no token works any more, whoever holds one.

Every moment comes in as ``now`` (timezone-aware UTC), so expiry is tested without waiting.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.errors import InvalidValue, InvalidValues, StoreError
from microamp.store.access import append_audit
from microamp.store.base import Base, UTCDateTime
from microamp.store.book_models import ClinicSettings
from microamp.store.crud import clean_text, create_user
from microamp.store.models import User

__all__ = [
    "SETUP_LIFETIME_S",
    "ClinicSettings",
    "IssuedSetupToken",
    "SetupLinkDead",
    "SetupToken",
    "TokenState",
    "check_time_zone",
    "claim_clinic",
    "clinic_has_users",
    "get_clinic_settings",
    "issue_setup_token",
    "setup_token_state",
]

# Long enough to open the link after starting the server, short enough that a link left in a
# terminal's scrollback is soon worthless.
SETUP_LIFETIME_S: Final = 3600
ISSUER: Final = "microamp serve"
TokenState = Literal["valid", "used", "expired", "unknown"]


class SetupToken(Base):
    """A one-time setup link: the token's SHA-256, when it stops working, when it was used."""

    __tablename__ = "setup_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SetupLinkDead(StoreError):
    """A setup token that does not (or no longer) open the setup page."""

    def __init__(self, state: TokenState) -> None:
        self.state = state
        super().__init__(_DEAD_REASONS.get(state, "this setup link does not work"))


_DEAD_REASONS: dict[str, str] = {
    "used": "this setup link has been used: the clinic is set up, sign in instead",
    "expired": "this setup link has expired: restart `microamp serve` for a new one",
    "unknown": "this is not a setup link of this clinic",
}


@dataclass(frozen=True, slots=True)
class IssuedSetupToken:
    """The token (shown once, never stored) and when it stops working."""

    token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clinic_has_users(session: Session) -> bool:
    """Whether anybody can sign in already (then the clinic needs no setup)."""
    return bool(session.scalar(select(func.count()).select_from(User)))


def issue_setup_token(
    session: Session, *, now: datetime, lifetime_s: int = SETUP_LIFETIME_S
) -> IssuedSetupToken:
    """A new setup token, replacing any unused one; refused once the clinic has a user."""
    if clinic_has_users(session):
        raise StoreError(
            "the clinic already has users: sign in, or add one with `microamp users add`"
        )
    session.execute(delete(SetupToken).where(SetupToken.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=lifetime_s)
    row = SetupToken(token_hash=_hash(token), created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    append_audit(
        session,
        actor_id=None,
        actor=ISSUER,
        action="write",
        resource="setup-token",
        detail={"token_id": row.id, "expires_at": expires_at.isoformat(timespec="seconds")},
    )
    return IssuedSetupToken(token=token, expires_at=expires_at)


def setup_token_state(session: Session, token: str, *, now: datetime) -> TokenState:
    """Whether ``token`` opens the setup page now, and if not, why."""
    row = session.scalar(select(SetupToken).where(SetupToken.token_hash == _hash(token)))
    if row is None:
        return "unknown"
    if row.used_at is not None or clinic_has_users(session):
        return "used"
    if now >= row.expires_at:
        return "expired"
    return "valid"


def check_time_zone(value: str) -> str:
    """An IANA time zone name (``Europe/Lisbon``); `InvalidValue` otherwise."""
    name = value.strip()
    if name not in available_timezones():
        raise InvalidValue("time_zone", value, "must be an IANA time zone such as Europe/Lisbon")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue("time_zone", value, "is not a time zone this machine knows") from None
    return name


def _checked_fields(
    clinic_name: str, time_zone: str, display_name: str, email: str
) -> tuple[str, str]:
    """The clinic's name and zone, cleaned; every bad field at once as `InvalidValues`."""
    problems: list[InvalidValue] = []
    checked: list[str] = []
    for field, check, value in (
        ("clinic_name", clean_text, clinic_name),
        ("time_zone", None, time_zone),
        ("display_name", clean_text, display_name),
    ):
        try:
            checked.append(check(field, value) if check else check_time_zone(value))
        except InvalidValue as exc:
            problems.append(exc)
    address = email.strip()
    if "@" not in address.strip("@") or " " in address:
        problems.append(InvalidValue("email", email, "must be an email address"))
    if problems:
        raise InvalidValues(problems)
    return checked[0], checked[1]


def claim_clinic(
    session: Session,
    token: str,
    *,
    now: datetime,
    email: str,
    display_name: str,
    password_hash: str,
    clinic_name: str,
    time_zone: str,
) -> User:
    """Use ``token`` once: the owner and the clinic's settings, audited. The caller commits,
    or rolls back on an error (which leaves the token unspent).

    Raises `SetupLinkDead` for a token that does not work, `InvalidValue` for a bad field.
    """
    # Spending the token is the transaction's first statement: on PostgreSQL the row lock, on
    # SQLite the write lock, makes a second claim wait and then find it spent.
    spent = session.execute(
        update(SetupToken)
        .where(SetupToken.token_hash == _hash(token), SetupToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(spent, "rowcount", 0) != 1:
        state = setup_token_state(session, token, now=now)
        raise SetupLinkDead("used" if state == "valid" else state)
    row = session.scalar(select(SetupToken).where(SetupToken.token_hash == _hash(token)))
    if row is None or now >= row.expires_at:
        raise SetupLinkDead("expired")
    if clinic_has_users(session):
        raise SetupLinkDead("used")
    name, zone = _checked_fields(clinic_name, time_zone, display_name, email)
    owner = create_user(
        session, email=email, display_name=display_name, role="owner", password_hash=password_hash
    )
    session.merge(ClinicSettings(id=1, name=name, time_zone=zone, updated_at=now))
    append_audit(
        session,
        actor_id=owner.id,
        actor=owner.email,
        action="write",
        resource="clinic-setup",
        detail={"clinic_name": name, "time_zone": zone},
    )
    return owner


def get_clinic_settings(session: Session) -> ClinicSettings | None:
    """The clinic's settings, or None before the clinic is set up."""
    return session.get(ClinicSettings, 1)
