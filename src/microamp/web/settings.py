"""`WebSettings`: how the clinic web app runs, refusing unsafe values before it starts.

Read from the environment (``MICROAMP_DATABASE_URL``, ``MICROAMP_DEVICE_URL``,
``MICROAMP_SECRET_KEY``, ``MICROAMP_SESSION_SPEED``, ...) or passed in. Without a secret key in
the environment, the database keeps one, made by the first worker to start, so every worker
signs alike and a restart does not sign everybody out (`microamp.store.signing_key`). A key
file an older microamp left in ``<data_dir>/web-secret.key`` is what that first worker offers,
so upgrading signs nobody out either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from microamp.errors import InvalidValue
from microamp.store.db import Store
from microamp.store.signing_key import KeyMismatch, agree_signing_key

__all__ = [
    "SECRET_KEY_SETTING",
    "WebSettings",
    "client_link_key",
    "legacy_secret_key",
    "shared_secret_key",
]

SECRET_KEY_SETTING = "MICROAMP_SECRET_KEY"
LEGACY_KEY_FILE = "web-secret.key"

_MIN_SECRET_CHARS = 32


def _default_data_dir() -> Path:
    return Path(user_data_dir("microamp", appauthor=False))


class WebSettings(BaseSettings):
    """Settings of the web app. Units are in the names."""

    model_config = SettingsConfigDict(env_prefix="MICROAMP_", extra="ignore", frozen=True)

    database_url: str | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    device_url: str = "sim://?load=gel"
    secret_key: str | None = None
    # The embedded default: this process also runs the station of ``device_url`` (a thread),
    # named ``station_name``. Off for web workers of a clinic whose stations run beside their
    # devices (`microamp station`).
    embedded_station: bool = True
    station_name: Annotated[str, Field(min_length=1, max_length=120)] = "Room 1"
    # Simulated sessions run this many times faster than real time (1 = real time).
    session_speed: Annotated[float, Field(gt=0, le=1000)] = 1.0
    # Cookies carry the Secure flag: set when served over https (behind a TLS proxy too).
    https: bool = False
    # A signed-in session lasts this long without signing in again (its absolute lifetime)...
    session_max_age_s: Annotated[int, Field(ge=300, le=7 * 86_400)] = 12 * 3600
    # ...and ends sooner when left this long without a request (the idle timeout).
    session_idle_s: Annotated[int, Field(ge=60, le=86_400)] = 30 * 60
    # Sign-in throttle (microamp.store.throttle): this many tries per account, and per client
    # address, pass at once within the window; each further one waits 2^k times the base delay,
    # at most the cap. A wait, never a lockout.
    signin_window_s: Annotated[int, Field(ge=10, le=86_400)] = 15 * 60
    signin_max_failures_per_user: Annotated[int, Field(ge=1, le=1000)] = 5
    signin_max_failures_per_ip: Annotated[int, Field(ge=1, le=10_000)] = 20
    signin_delay_base_s: Annotated[float, Field(ge=0.1, le=3600)] = 1.0
    signin_delay_cap_s: Annotated[float, Field(ge=1, le=86_400)] = 300.0
    # Addresses or networks (CIDR, comma-separated) of the reverse proxies in front of the app:
    # only a request from one of them has its X-Forwarded-For believed. None by default.
    trusted_proxies: str = ""
    # How often the server signs the audit chain's head into the checkpoint file (0: never; it
    # also writes one at shutdown). Rows deleted after the latest checkpoint go unseen.
    audit_checkpoint_s: Annotated[float, Field(ge=0, le=86_400)] = 300.0
    # How often the server hands the outbox's due mail to the SMTP server (0: never; a cluster
    # may leave it on in every worker, each message is claimed by one, or run `mail send-due`).
    mail_send_s: Annotated[float, Field(ge=0, le=86_400)] = 30.0
    # Requests other than a Stop that one worker runs at once; the rest wait their turn, so a
    # Stop shares the interpreter with at most this many (`microamp.web.lanes.PageAdmission`).
    page_concurrency: Annotated[int, Field(ge=1, le=200)] = 8
    # The address clients reach the clinic's pages at: the links in reminders start with it.
    public_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")] = (
        "http://127.0.0.1:8000"
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_is_long(cls, value: str | None) -> str | None:
        if value is not None and len(value) < _MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {_MIN_SECRET_CHARS} characters")
        return value

    @field_validator("device_url")
    @classmethod
    def _device_url_is_known(cls, value: str) -> str:
        from microamp.devices.urls import parse_device_url

        parse_device_url(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        from microamp.web.addresses import parse_networks

        parse_networks(value)
        return value


def legacy_secret_key(data_dir: Path) -> str | None:
    """The key an older microamp kept in ``data_dir`` (read, never made), if any."""
    path = data_dir / LEGACY_KEY_FILE
    if not path.is_file():
        return None
    stored = path.read_text(encoding="utf-8").strip()
    return stored if len(stored) >= _MIN_SECRET_CHARS else None


def _offer(data_dir: Path) -> str:
    return legacy_secret_key(data_dir) or secrets.token_urlsafe(48)


def client_link_key(secret_key: str) -> bytes:
    """The key of the links sent to clients (pre-visit forms, reminders), derived from the
    signing key so that it is never the cookie key itself."""
    return hmac.new(secret_key.encode(), b"microamp previsit links", hashlib.sha256).digest()


def shared_secret_key(settings: WebSettings, store: Store) -> str:
    """The key that signs cookies, the same for every worker on ``store``: ``MICROAMP_SECRET_KEY``
    or the one the database keeps. `InvalidValue` naming ``MICROAMP_SECRET_KEY`` when this
    worker's key is not the one the others sign with: such a worker must not start."""
    try:
        with store.transaction() as session:
            return agree_signing_key(
                session, configured=settings.secret_key, offer=lambda: _offer(settings.data_dir)
            )
    except KeyMismatch as exc:
        raise InvalidValue(SECRET_KEY_SETTING, _shown_key(settings), _mismatch_rule(exc)) from None


def _shown_key(settings: WebSettings) -> str:
    return "a key" if settings.secret_key is not None else "unset"


def _mismatch_rule(exc: KeyMismatch) -> str:
    theirs = f"(fingerprint {exc.theirs[:12]})"
    if exc.kept_in_database:
        clash = f"the other workers on this database sign with the key it keeps {theirs}: unset it"
    else:
        clash = (
            f"the other workers on this database sign with another {SECRET_KEY_SETTING} {theirs}:"
            " give every worker the same one"
        )
    return f"{clash}; to change the key, stop every worker and run `microamp db forget-secret-key`"
