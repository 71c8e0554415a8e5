"""The sign-in throttle, in the store: shared by every web worker, atomic under concurrency.

The rule, for each key (an account, a client address, the second step of an account): the first
``free`` tries within ``window_s`` pass at once; after that each further try must wait
``base_s * 2**k`` seconds after the one before (k = 0, 1, 2, ...), at most ``cap_s``. A wait,
not a lockout: whoever knows an address can slow its owner down, never shut her out, and the
refusal says when to try again. A right password clears the account's key.

A try is charged *before* the password is checked, by a compare-and-set on the key's row
(``UPDATE ... WHERE version = :seen``): of any number of concurrent tries, each charge is won by
exactly one, so no more than ``free`` passwords are checked before the first wait, on SQLite as
on PostgreSQL, across processes. Keys are stored as their SHA-256: the table names nobody.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.store.base import Base, UTCDateTime

__all__ = [
    "ThrottleRule",
    "ThrottleRow",
    "Verdict",
    "charge_try",
    "clear_key",
    "refund_try",
    "throttle_key",
]

# a try that keeps losing the compare-and-set this often is refused: something hammers the key
_MAX_RACES = 8


class ThrottleRow(Base):
    """The tries charged to one key and when the next may come."""

    __tablename__ = "signin_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """``free`` tries per ``window_s``, then waits of ``base_s * 2**k`` seconds up to ``cap_s``."""

    free: int
    window_s: int
    base_s: float = 1.0
    cap_s: float = 300.0

    def wait_after(self, failures: int) -> timedelta:
        """How long the try after the ``failures``-th must wait."""
        extra = failures - self.free
        if extra < 0:
            return timedelta(0)
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** min(extra, 40)))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the try may go on; if not, how many whole seconds until the next may."""

    allowed: bool
    retry_after_s: int = 0


def throttle_key(kind: str, value: str) -> tuple[str, str]:
    """The (kind, stored key) of ``value``: an address, or an account (case-folded)."""
    folded = value.strip().casefold()
    return kind, hashlib.sha256(f"{kind}:{folded}".encode()).hexdigest()


def _ensure_row(db: Session, kind: str, key_hash: str, now: datetime) -> None:
    values = {
        "key_hash": key_hash,
        "kind": kind,
        "failures": 0,
        "last_at": now,
        "next_at": now,
        "version": 0,
    }
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.execute(insert(ThrottleRow).values(**values).on_conflict_do_nothing())


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


def charge_try(db: Session, key: tuple[str, str], *, rule: ThrottleRule, now: datetime) -> Verdict:
    """Charge one try to ``key`` if it may be made now (committed at once, whatever follows:
    a try is a try even if its request dies while the password is checked)."""
    kind, key_hash = key
    _ensure_row(db, kind, key_hash, now)
    db.commit()
    for _ in range(_MAX_RACES):
        row = db.execute(
            select(ThrottleRow.failures, ThrottleRow.last_at, ThrottleRow.next_at,
                   ThrottleRow.version).where(ThrottleRow.key_hash == key_hash)
        ).one()  # fmt: skip
        db.rollback()  # end the read: the update below decides on what is there then
        failures, last_at, next_at, version = row
        if now < next_at:
            return Verdict(False, _seconds_until(next_at, now))
        if now - last_at > timedelta(seconds=rule.window_s):
            failures = 0  # forgiven: the window passed without a try
        charged = failures + 1
        result = db.execute(
            update(ThrottleRow)
            .where(ThrottleRow.key_hash == key_hash, ThrottleRow.version == version)
            .values(failures=charged, last_at=now, next_at=now + rule.wait_after(charged),
                    version=version + 1)
        )  # fmt: skip
        won = getattr(result, "rowcount", 0)
        db.commit()
        if won == 1:
            return Verdict(True)
    return Verdict(False, 1)


def refund_try(db: Session, key: tuple[str, str], *, rule: ThrottleRule) -> None:
    """Take back one try from ``key`` (an address whose try turned out right); back under the
    free tries, the next needs no wait."""
    left = ThrottleRow.failures - 1
    db.execute(
        update(ThrottleRow)
        .where(ThrottleRow.key_hash == key[1], ThrottleRow.failures > 0)
        .values(
            failures=left,
            next_at=case((left < rule.free, ThrottleRow.last_at), else_=ThrottleRow.next_at),
            version=ThrottleRow.version + 1,
        )
    )


def clear_key(db: Session, key: tuple[str, str], *, now: datetime) -> None:
    """Forget every try charged to ``key`` (the right password, or an owner's reset)."""
    db.execute(
        update(ThrottleRow)
        .where(ThrottleRow.key_hash == key[1])
        .values(failures=0, next_at=now, version=ThrottleRow.version + 1)
    )
