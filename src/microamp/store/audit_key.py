"""The key that seals the audit chain, kept where the database login cannot read it.

``MICROAMP_AUDIT_KEY`` when set, else 32 random bytes created once in ``<data_dir>/audit.key``
(0600, written whole through `write_private`). Someone who can only reach the database can then
neither re-seal rows after editing them nor forge a new chain.

Every process that seals rows must hold the same key, or the chain breaks where their rows meet.
Processes on one host share the data directory's file; on several hosts they must be given the
same ``MICROAMP_AUDIT_KEY`` (or the same file). `require_shared_audit_key` checks it at a web
worker's start against a fingerprint kept in the database (an HMAC keyed by the audit key, of no
use to whoever reads it).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from threading import Lock

from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.config import StoreSettings, load_settings
from microamp.store.files import write_private
from microamp.store.signing_key import AUDIT_FINGERPRINT_ROW, KeyMismatch, agree_fingerprint

__all__ = [
    "AUDIT_KEY_FILE",
    "audit_key_for",
    "load_audit_key",
    "require_shared_audit_key",
    "session_audit_key",
]

AUDIT_KEY_FILE = "audit.key"
_MIN_KEY_HEX = 64
_cache: dict[tuple[str | None, Path], bytes] = {}
_lock = Lock()


def load_audit_key(settings: StoreSettings) -> bytes:
    """The configured key (any text, stretched to 32 bytes), else the data dir's key file."""
    if settings.audit_key:
        return hashlib.sha256(("microamp-audit:" + settings.audit_key).encode("utf-8")).digest()
    path = settings.data_dir / AUDIT_KEY_FILE
    if path.is_file():
        stored = path.read_text(encoding="utf-8").strip()
        if len(stored) >= _MIN_KEY_HEX:
            return bytes.fromhex(stored[:_MIN_KEY_HEX])
    key = secrets.token_bytes(32)
    write_private(path, (key.hex() + "\n").encode("ascii"))
    return key


def audit_key_for(settings: StoreSettings) -> bytes:
    """`load_audit_key`, read once per process and setting (the hot path then costs nothing)."""
    cache_key = (settings.audit_key, settings.data_dir)
    with _lock:
        if cache_key not in _cache:
            _cache[cache_key] = load_audit_key(settings)
        return _cache[cache_key]


def session_audit_key(session: Session) -> bytes:
    """The key of the store that made ``session``; a bare session uses the environment's."""
    source = session.info.get("audit_key_source")
    settings = source if isinstance(source, StoreSettings) else load_settings()
    return audit_key_for(settings)


def require_shared_audit_key(session: Session, settings: StoreSettings) -> None:
    """Refuse (`InvalidValue` naming ``MICROAMP_AUDIT_KEY``) a process whose audit key is not
    the one the clinic's other processes seal with; the first to ask records its key's
    fingerprint."""
    try:
        agree_fingerprint(session, AUDIT_FINGERPRINT_ROW, audit_key_for(settings))
    except KeyMismatch as exc:
        raise InvalidValue(
            "MICROAMP_AUDIT_KEY",
            "set"
            if settings.audit_key
            else f"unset (the key in {settings.data_dir / AUDIT_KEY_FILE})",
            f"the other processes on this database seal the audit log with another key "
            f"(fingerprint {exc.theirs[:12]}): give every host the same MICROAMP_AUDIT_KEY, "
            "or the same audit.key file",
        ) from None
