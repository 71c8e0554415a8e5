"""The SMTP password at rest: sealed (Fernet: AES-128-CBC with an HMAC-SHA256 tag) under a key
derived from the clinic's secret key, so that a copy of the database alone does not give away
the clinic's mail login.

Every process that sends mail holds the secret key already (``MICROAMP_SECRET_KEY``, or the one
the database keeps, which every web worker agrees on), so each can open the password; the page
never shows it back. A password sealed under another key (the secret key was changed) cannot be
opened: `PasswordUnreadable` says to enter it again, and nothing is sent meanwhile.

A value stored by an older microamp is plain text; `seal_plain_password` seals it in place the
first time a process with the key opens the store
(`microamp.store.mail.seal_plain_password`).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microamp.errors import StoreError

__all__ = [
    "SEALED_PREFIX",
    "UNREADABLE_RULE",
    "PasswordUnreadable",
    "is_sealed",
    "mail_password_key",
    "open_password",
    "seal_password",
]

# marks a sealed value, and the scheme it was sealed with should another ever be needed
SEALED_PREFIX = "fernet1:"
_KEY_INFO = b"microamp: the SMTP password at rest"
UNREADABLE_RULE = (
    "the stored SMTP password cannot be decrypted with this server's secret key (the secret key "
    "was changed): re-enter the SMTP password on the Mail page"
)


class PasswordUnreadable(StoreError):
    """The stored SMTP password was sealed under another secret key."""

    def __init__(self) -> None:
        super().__init__(UNREADABLE_RULE)


def mail_password_key(secret_key: str) -> bytes:
    """The sealing key (32 bytes) derived from the clinic's secret key by HKDF-SHA256, so that
    it is never the cookie key itself and tells nothing about it."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO)
    return hkdf.derive(secret_key.encode("utf-8"))


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def seal_password(key: bytes, password: str) -> str:
    """``password`` sealed under ``key``; "" (no password) stays "" so that it reads as none."""
    if not password:
        return ""
    return SEALED_PREFIX + _fernet(key).encrypt(password.encode("utf-8")).decode("ascii")


def open_password(key: bytes, stored: str) -> str:
    """The password ``stored`` holds ("" for none; an older plain value as it is). Raises
    `PasswordUnreadable` when it was sealed under another key."""
    if not is_sealed(stored):
        return stored
    try:
        return _fernet(key).decrypt(stored[len(SEALED_PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise PasswordUnreadable() from None
