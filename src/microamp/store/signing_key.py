"""The web workers' one signing key, agreed through the database.

Every web worker of a clinic must sign cookies with the same key, or a browser signed in through
one worker is a stranger to the next. The key comes from ``MICROAMP_SECRET_KEY`` when set, else
the database keeps one: the first worker to start offers a key and ``INSERT ... ON CONFLICT DO
NOTHING`` lets exactly one offer in, so every worker then reads the same row.

Either way the database holds a keyed fingerprint of the key in use (an HMAC keyed by the key,
which tells nothing about it): a worker whose key does not match is refused before it serves a
request, instead of signing everybody out at random. Forgetting the fingerprint (and any kept
key) with `forget_signing_key` is how a clinic changes its key: stop every worker first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import String, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.errors import StoreError
from microamp.store.base import Base, UTCDateTime, utc_now

__all__ = [
    "AUDIT_FINGERPRINT_ROW",
    "FINGERPRINT_ROW",
    "KEY_ROW",
    "KeyMismatch",
    "StoredKey",
    "agree_fingerprint",
    "agree_signing_key",
    "forget_signing_key",
    "key_fingerprint",
]

KEY_ROW = "web-secret-key"
FINGERPRINT_ROW = "web-secret-key-fingerprint"
AUDIT_FINGERPRINT_ROW = "audit-key-fingerprint"
_FINGERPRINT_MESSAGE = b"microamp: fingerprint of the web signing key"


class StoredKey(Base):
    """A named value every process of the clinic shares: the signing key and its fingerprint."""

    __tablename__ = "stored_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyMismatch(StoreError):
    """This process's key is not the one the other workers on the database sign with."""

    def __init__(self, *, ours: str, theirs: str, kept_in_database: bool) -> None:
        self.ours = ours
        self.theirs = theirs
        self.kept_in_database = kept_in_database
        super().__init__(
            f"this key (fingerprint {ours[:12]}) is not the one the other workers sign with "
            f"(fingerprint {theirs[:12]})"
        )


def key_fingerprint(key: str | bytes) -> str:
    """HMAC-SHA256 of a fixed message under ``key``: equal keys, equal fingerprints, and the
    fingerprint cannot be turned back into the key nor checked against a guess without it."""
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def _put_if_absent(session: Session, name: str, value: str) -> str:
    """The value stored under ``name``: ``value`` if nobody stored one first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {"name": name, "value": value, "created_at": utc_now()}
    session.execute(insert(StoredKey).values(row).on_conflict_do_nothing(index_elements=["name"]))
    stored = session.scalar(select(StoredKey.value).where(StoredKey.name == name))
    if stored is None:  # deleted between the two statements: a forget ran meanwhile
        raise StoreError(f"the stored key {name!r} vanished while it was read: start again")
    return stored


def agree_signing_key(session: Session, *, configured: str | None, offer: Callable[[], str]) -> str:
    """The key to sign with: ``configured`` (``MICROAMP_SECRET_KEY``) if given, else the one
    the database keeps, ``offer()`` stored as that key when it keeps none yet. Raises
    `KeyMismatch` when the key differs from the one whose fingerprint the database holds."""
    key = configured if configured is not None else _put_if_absent(session, KEY_ROW, offer())
    try:
        agree_fingerprint(session, FINGERPRINT_ROW, key)
    except KeyMismatch as exc:
        # without a configured key the kept one was just offered: the others use a configured one
        kept = configured is not None and session.get(StoredKey, KEY_ROW) is not None
        raise KeyMismatch(ours=exc.ours, theirs=exc.theirs, kept_in_database=kept) from None
    return key


def agree_fingerprint(session: Session, name: str, key: str | bytes) -> None:
    """Record ``key``'s fingerprint under ``name`` if none is yet; `KeyMismatch` when the one
    recorded is another key's."""
    ours = key_fingerprint(key)
    theirs = _put_if_absent(session, name, ours)
    if not hmac.compare_digest(ours, theirs):
        raise KeyMismatch(ours=ours, theirs=theirs, kept_in_database=False)


def forget_signing_key(session: Session) -> bool:
    """Forget the key kept in the database and its fingerprint, so the next worker to start
    sets them again (everybody is then signed out); whether there was anything to forget."""
    gone = session.execute(delete(StoredKey).where(StoredKey.name.in_([KEY_ROW, FINGERPRINT_ROW])))
    return bool(getattr(gone, "rowcount", 0))
