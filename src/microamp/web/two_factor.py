"""Two-factor sign-in by TOTP (RFC 6238: six digits, 30 s steps, SHA-1, as every authenticator
app reads them), through pyotp; the enrolment's QR code is drawn by segno as inline SVG.

A code is accepted for the time step it belongs to, one step either side of now (a phone's clock
a little off), and only for a step later than the last one accepted: the store keeps that step
(`microamp.store.staff.claim_totp_step`), so a code seen over a shoulder is worthless once used.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno

__all__ = ["ISSUER", "code_step", "new_secret", "otpauth_uri", "qr_svg", "step_at"]

ISSUER = "microamp"
STEP_S = 30
# steps either side of now that still count: a phone clock up to 30 s off
_DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def otpauth_uri(secret: str, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (from the QR code or pasted)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str, *, title: str) -> str:
    """The URI as an inline SVG QR code, named by ``title`` for assistive technology."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=title, svgclass="qr-code")
    return svg.replace("<svg ", '<svg role="img" ', 1)


def step_at(now: datetime) -> int:
    """The TOTP time step of ``now``."""
    return int(now.timestamp()) // STEP_S


def code_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (near ``now``) whose code ``code`` is, or None; compared in constant time."""
    cleaned = "".join(code.split())
    if len(cleaned) != 6 or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = step_at(now)
    found = None
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            found = step
    return found
