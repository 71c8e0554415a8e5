"""`WebSettings`: how the clinic web app runs, refusing unsafe values before it starts.

Read from the environment (``MICROAMP_DATABASE_URL``, ``MICROAMP_DEVICE_URL``,
``MICROAMP_SECRET_KEY``, ``MICROAMP_SESSION_SPEED``, ...) or passed in. Without a secret key in
the environment, one is generated once and kept in ``<data_dir>/web-secret.key`` (mode 0600), so
a restart does not sign everybody out.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from microamp.store.files import write_private

__all__ = ["WebSettings", "load_secret_key"]

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

    def resolved_secret_key(self) -> str:
        """The key that signs cookies: the configured one, else the one kept in the data dir."""
        return self.secret_key or load_secret_key(self.data_dir)


def load_secret_key(data_dir: Path) -> str:
    """The secret key stored in ``data_dir``, created (0600) on first use."""
    path = data_dir / "web-secret.key"
    if path.is_file():
        stored = path.read_text(encoding="utf-8").strip()
        if len(stored) >= _MIN_SECRET_CHARS:
            return stored
    key = secrets.token_urlsafe(48)
    write_private(path, (key + "\n").encode("utf-8"))
    return key
