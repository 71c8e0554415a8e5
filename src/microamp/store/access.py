"""Who may reach the records, and what they did: personal API tokens and the audit log
(reads and writes of health data, and security events: sign-ins, sessions, staff changes).

The audit log is append-only and chained: row ``seq`` stores the seal of row ``seq - 1`` and its
own seal, an HMAC-SHA256 over its content and that link with a key the database does not hold
(`microamp.store.audit_key`), so changing, removing or reordering any row breaks the chain from
that row on, and the database login cannot compute a new valid chain. Rows sealed before the
key existed (plain SHA-256, the earlier format) verify as a legacy prefix: they are left as they
were rather than re-sealed, because re-sealing would vouch for rows nobody checked with the key;
a keyed row may never be followed by a plain one, and signed checkpoints outside the database
(`microamp.store.audit_checkpoints`) record how long that prefix was. `verify_audit_chain` finds the first broken row. The database
refuses UPDATE and DELETE on the table (triggers, see the migration), and ``seq`` is unique, so
two writers can never both extend the chain from the same row.

Tokens are random (256 bits), shown once, and stored only as their SHA-256: a stolen database
gives no usable token. A slow hash adds nothing for secrets of that entropy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, false, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.errors import InvalidValue
from microamp.store.audit_key import session_audit_key
from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = [
    "AUDIT_ACTIONS",
    "SECURITY_ACTIONS",
    "GENESIS_HASH",
    "TOKEN_PREFIX",
    "ApiToken",
    "ChainStart",
    "AuditEntry",
    "AuditVerdict",
    "append_audit",
    "create_api_token",
    "find_api_token",
    "hash_token",
    "list_api_tokens",
    "revoke_api_token",
    "verify_audit_chain",
]

AUDIT_ACTIONS = ("read", "write")
# security events: signing in and out, sessions, staff administration, two-factor
SECURITY_ACTIONS = (
    "auth.signin",
    "auth.signin_failed",
    "auth.signout",
    "auth.session_ended",
    "auth.password_changed",
    "auth.2fa_enrolled",
    "auth.2fa_used",
    "auth.2fa_failed",
    "auth.recovery_used",
    "auth.2fa_turned_off",
    "auth.recovery_codes_renewed",
    "auth.token_created",
    "auth.token_revoked",
    "auth.refused",
    "staff.add",
    "staff.disable",
    "staff.enable",
    "staff.role",
    "staff.password_reset",
    "staff.sessions_ended",
    "staff.2fa_removed",
    "staff.2fa_policy",
    "staff.working_hours",
    "mail.settings",
)
GENESIS_HASH = "0" * 64
TOKEN_PREFIX = "mat_"


class AuditEntry(Base):
    """One read or write of health data: who, when, what, and the link to the row before."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A personal API token: its SHA-256, a short visible prefix, and whether it still works."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- the audit chain ---------------------------------------------------------------------------


def _canonical(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    resource: str,
    client_id: int | None,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    return json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="milliseconds"),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "resource": resource,
            "client_id": client_id,
            "detail": dict(detail),
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def _legacy_hash(**fields: Any) -> str:
    """The unkeyed SHA-256 of rows written before the audit key existed."""
    return hashlib.sha256(_canonical(**fields)).hexdigest()


def _seal(key: bytes, **fields: Any) -> str:
    """A row's seal: HMAC-SHA256 over its canonical content, which includes the link."""
    return hmac.new(key, _canonical(**fields), hashlib.sha256).hexdigest()


def _clean_detail(detail: Mapping[str, Any] | None) -> dict[str, str | int | bool | None]:
    """Detail values as strings, whole numbers, booleans or null: they hash the same after a
    round trip through JSON or JSONB, which floats and nested values may not."""
    clean: dict[str, str | int | bool | None] = {}
    for key, value in (detail or {}).items():
        if value is None or isinstance(value, bool | int | str):
            clean[str(key)] = value
        else:
            clean[str(key)] = str(value)
    return clean


def append_audit(
    session: Session,
    *,
    actor_id: int | None,
    actor: str,
    action: str,
    resource: str,
    client_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add the next row of the chain to ``session`` (the caller commits, in the same
    transaction as the write it records). On PostgreSQL a transaction-scoped advisory lock
    (or SQLite's write lock) keeps concurrent writers in line; the unique ``seq`` refuses a fork
    whatever happens."""
    if action not in AUDIT_ACTIONS and action not in SECURITY_ACTIONS:
        raise InvalidValue(
            "action", action, f"must be one of {', '.join(AUDIT_ACTIONS)} or a security event"
        )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # one lock number for the whole audit log ("maau" in ASCII), released at commit
        session.execute(select(func.pg_advisory_xact_lock(0x6D61_6175)))
    elif dialect == "sqlite":
        # a write that touches no row still takes SQLite's write lock, so reading the last row
        # below happens inside this writer's turn and no other writer can take the same seq
        session.execute(update(AuditEntry).where(false()).values(seq=AuditEntry.seq))
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    now = utc_now()
    at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    fields: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "resource": resource,
        "client_id": client_id,
        "detail": _clean_detail(detail),
        "prev_hash": prev_hash,
    }
    entry = AuditEntry(**fields, hash=_seal(session_audit_key(session), **fields))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """The result of checking the chain. ``broken_seq``: the first row that does not hold."""

    rows: int
    broken_seq: int | None = None
    reason: str = ""
    legacy_rows: int = 0
    head_seq: int = 0
    head_seal: str = GENESIS_HASH

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


@dataclass(frozen=True, slots=True)
class ChainStart:
    """Where a walk of the chain begins: after row ``seq``, whose seal is ``seal``, with
    ``legacy_rows`` plain-hash rows up to it (the genesis: no rows)."""

    seq: int = 0
    seal: str = GENESIS_HASH
    legacy_rows: int = 0


def _rows(session: Session, after_seq: int = 0, batch: int = 1000) -> Iterator[AuditEntry]:
    last_seq = after_seq
    while True:
        chunk = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > last_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        )
        if not chunk:
            return
        yield from chunk
        last_seq = chunk[-1].seq
        session.expunge_all()


def verify_audit_chain(
    session: Session, *, key: bytes | None = None, start: ChainStart = ChainStart()
) -> AuditVerdict:
    """Walk the log in order from ``start`` (the whole log by default), recomputing every seal
    and link (with the store's key unless ``key`` is given). Plain-hash rows are accepted only
    before the first keyed row. Rows up to ``start.seq`` are taken as given: the caller vouches
    for them (a signed checkpoint does) and counts them into ``rows``."""
    key = session_audit_key(session) if key is None else key
    expected_seq, prev_hash = start.seq + 1, start.seal
    count, legacy = start.seq, start.legacy_rows
    for entry in _rows(session, after_seq=start.seq):
        count += 1
        problem, is_legacy = _check_entry(entry, expected_seq, prev_hash, key, legacy == count - 1)
        if problem:
            return AuditVerdict(
                rows=count, broken_seq=entry.seq, reason=problem, legacy_rows=legacy,
                head_seq=expected_seq - 1, head_seal=prev_hash,
            )  # fmt: skip
        legacy += is_legacy
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    return AuditVerdict(
        rows=count, legacy_rows=legacy, head_seq=expected_seq - 1, head_seal=prev_hash
    )


def _check_entry(
    entry: AuditEntry, expected_seq: int, prev_hash: str, key: bytes, legacy_allowed: bool
) -> tuple[str, bool]:
    if entry.seq != expected_seq:
        return f"row {expected_seq} is missing (the next row is {entry.seq})", False
    if entry.prev_hash != prev_hash:
        return "its link does not match the seal of the row before", False
    fields: dict[str, Any] = {
        "seq": entry.seq,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": entry.action,
        "resource": entry.resource,
        "client_id": entry.client_id,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    if hmac.compare_digest(_seal(key, **fields), entry.hash):
        return "", False
    if legacy_allowed and _legacy_hash(**fields) == entry.hash:
        return "", True
    if _legacy_hash(**fields) == entry.hash:
        return (
            "it has a plain hash after keyed rows (the chain was recomputed without the key)",
            False,
        )
    return (
        "its content does not match its seal (the row was changed, or sealed with another key)",
        False,
    )


# -- API tokens --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, *, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user_id``: the row, and the token itself (shown once, never stored)."""
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= 100:
        raise InvalidValue("name", name, "must be 1-100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=cleaned, prefix=token[:10], token_hash=hash_token(token))
    session.add(row)
    session.flush()
    return row, token


def find_api_token(session: Session, token: str) -> ApiToken | None:
    """The live (not revoked) token row matching ``token``, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def list_api_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first, revoked ones included."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, *, user_id: int, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when the user has no such token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        return None
    if row.revoked_at is None:
        row.revoked_at = utc_now()
    session.flush()
    return row
