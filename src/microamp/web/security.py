"""Passwords, signed session cookies and CSRF tokens.

- Passwords: argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile). A new password
  must be at least `MIN_PASSWORD_CHARS` long and hard to guess: zxcvbn (Dropbox's estimator:
  common-password lists, dictionary words, names, keyboard walks, dates, repeats, l33t) must
  score it at least `MIN_PASSWORD_SCORE` of 4, "safely unguessable", with the account's own
  email and name counted as known to an attacker. A temporary password (an owner's reset) is
  random and must be changed at the next sign-in.
- The session cookie is a JSON payload signed with HMAC-SHA256 under the app's secret key. A
  signed-in browser's holds only the random id of its session in the store
  (`microamp.store.staff_sessions`), an anonymous visitor's only a CSRF token.
- CSRF: every unsafe request must carry the session's token, as a ``csrf_token`` form field or
  an ``X-CSRF-Token`` header (HTMX sends the header); compared in constant time.
- The sign-in throttle lives in the store (`microamp.store.throttle`), shared by every worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Sequence
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

__all__ = [
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "MIN_PASSWORD_SCORE",
    "SessionSigner",
    "check_password_rules",
    "csrf_matches",
    "hash_password",
    "new_csrf_token",
    "temporary_password",
    "verify_password",
]

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
# zxcvbn's 3: "safely unguessable", about 10^10 guesses, enough against an offline attack on a
# slow hash such as argon2id; 0-2 are the common, the guessable and the merely unusual.
MIN_PASSWORD_SCORE = 3
# zxcvbn's own bound (it refuses longer input): the first this many characters are judged,
# which is where a guessable password shows itself.
_ZXCVBN_CHARS = 72
_hasher = PasswordHasher()  # argon2id
# A hash of a password nobody has: verifying against it costs what a real check costs, so an
# unknown email takes as long to refuse as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; False for a missing or unreadable hash (same cost)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, *, known: Sequence[str] = ()) -> str | None:
    """Why ``password`` is not acceptable, or None. ``known``: what an attacker knows of the
    account (its email, its name), which zxcvbn counts as guessed."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"must be at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"must be at most {MAX_PASSWORD_CHARS} characters"
    words = [part for item in known for part in re.split(r"[^\w]+", item) if len(part) > 2]
    verdict = zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=[*known, *words])
    if verdict["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = verdict["feedback"]
    why = [feedback.get("warning") or "", *feedback.get("suggestions", [])]
    said = " ".join(part.strip() for part in why if part.strip())
    return "is too easy to guess" + (f": {said}" if said else "; add a few uncommon words")


def temporary_password() -> str:
    """A random password to hand over once (about 100 bits), readable aloud in groups."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[n : n + 5] for n in range(0, 20, 5))


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Signs and checks the session cookie's payload; refuses expired or altered cookies."""

    def __init__(self, secret_key: str, *, max_age_s: int) -> None:
        self._key = hashlib.sha256(("microamp-session:" + secret_key).encode("utf-8")).digest()
        self.max_age_s = max_age_s

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, payload: dict[str, Any], *, now: float | None = None) -> str:
        data = dict(payload, iat=int(now if now is not None else time.time()))
        body = _b64(json.dumps(data, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._mac(body)}"

    def loads(self, cookie: str, *, now: float | None = None) -> dict[str, Any] | None:
        """The payload, or None when the cookie is malformed, forged or too old."""
        body, _, mac = cookie.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            data = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("iat"), int):
            return None
        age = (now if now is not None else time.time()) - data["iat"]
        if not 0 <= age <= self.max_age_s:
            return None
        return data
