"""Backends by name, imported only when used, opened from a URL.

After python-can's ``BACKENDS``: a dict from backend name to ``module:Class``. A backend class
provides ``from_url(url: DeviceURL, *, clock, profile) -> Device`` and ``availability() -> str |
None`` (None when usable here, else the reason, such as the extra to install).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from microamp.clock import Clock, RealClock
from microamp.devices.urls import DeviceURL, parse_device_url
from microamp.errors import BackendUnavailable, DeviceURLError
from microamp.safety.limits import LimitProfile, get_profile

if TYPE_CHECKING:
    from microamp.devices.base import Device

__all__ = ["BACKENDS", "BackendInfo", "available_backends", "open_device"]

BACKENDS: dict[str, str] = {
    "sim": "microamp.devices.sim:SimDevice",
    "serial": "microamp.devices.serial_device:SerialDevice",
    "audio": "microamp.devices.audio:AudioDevice",
}

EXAMPLES: dict[str, str] = {
    "sim": "sim://?load=gel&seed=1&fault=contact-loss@5",
    "serial": "serial:///dev/ttyACM0",
    "audio": "audio://default?full_scale_ua=1000",
}

DESCRIPTIONS: dict[str, str] = {
    "sim": "simulated constant-current source into an electrode-skin load",
    "serial": "a microcontroller speaking the microamp serial protocol (or its emulator)",
    "audio": "a sound card driving a voltage-to-current adapter (extra: microamp[audio])",
}


class _Backend(Protocol):
    @classmethod
    def from_url(cls, url: DeviceURL, *, clock: Clock, profile: LimitProfile) -> Device: ...

    @classmethod
    def availability(cls) -> str | None: ...


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """A backend, whether it can be used here and, if not, why."""

    name: str
    available: bool
    reason: str | None
    description: str
    example: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _backend_class(name: str) -> _Backend:
    if name not in BACKENDS:
        raise DeviceURLError("backend", name, f"unknown backend; known: {', '.join(BACKENDS)}")
    module_name, _, class_name = BACKENDS[name].partition(":")
    module = importlib.import_module(module_name)
    return cast(_Backend, getattr(module, class_name))


def available_backends() -> list[BackendInfo]:
    """Every backend, and whether its dependencies are installed here."""
    infos = []
    for name in BACKENDS:
        reason = _backend_class(name).availability()
        infos.append(BackendInfo(name, reason is None, reason, DESCRIPTIONS[name], EXAMPLES[name]))
    return infos


def open_device(
    url: str, *, clock: Clock | None = None, profile: LimitProfile | None = None
) -> Device:
    """Open the device that ``url`` names, e.g. ``sim://?load=gel`` or ``serial:///dev/ttyACM0``.

    ``clock`` defaults to real time; ``profile`` (default ``home``) sets the limits a
    sample-rendering backend's output guard enforces. Raises `DeviceURLError` (an `InvalidValue`)
    for a malformed URL, an unknown backend or a bad parameter, `BackendUnavailable` when an
    optional dependency is missing, `DeviceError` when the device cannot be opened.
    """
    parsed = parse_device_url(url)
    backend = _backend_class(parsed.backend)
    reason = backend.availability()
    if reason is not None:
        raise BackendUnavailable(f"the {parsed.backend} backend is unavailable: {reason}")
    return backend.from_url(
        parsed, clock=clock or RealClock(), profile=profile or get_profile("home")
    )
