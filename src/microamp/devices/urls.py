"""Device URLs: ``backend://location?name=value&...``, parsed into typed, checked parameters.

Every problem is a `DeviceURLError` naming the parameter, the value and the rule; a parameter a
backend does not know is refused rather than ignored (a typo must not silently change a load).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from microamp.errors import DeviceURLError

__all__ = ["DeviceURL", "parse_device_url"]

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


@dataclass(slots=True)
class DeviceURL:
    """A parsed device URL. Read parameters with the typed getters, then call `finish`."""

    url: str
    backend: str
    location: str
    params: list[tuple[str, str]]
    _used: set[str] = field(default_factory=set)

    def _values(self, name: str) -> list[str]:
        self._used.add(name)
        return [value for key, value in self.params if key == name]

    def text(self, name: str, default: str, *, choices: tuple[str, ...] | None = None) -> str:
        """The one value of ``name`` (``default`` when absent), optionally one of ``choices``."""
        values = self._values(name)
        if len(values) > 1:
            raise DeviceURLError(name, values[-1], "may be given once")
        value = values[0] if values else default
        if choices is not None and value not in choices:
            raise DeviceURLError(name, value, f"must be one of {', '.join(choices)}")
        return value

    def number(
        self,
        name: str,
        default: float,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        low_open: bool = False,
    ) -> float:
        """A finite number within [low, high] (or (low, high] with ``low_open``)."""
        raw = self.text(name, "")
        if raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise DeviceURLError(name, raw, "must be a number") from None
        below = value <= low if low_open else value < low
        if not math.isfinite(value) or below or value > high:
            bracket = "(" if low_open else "["
            raise DeviceURLError(
                name, raw, f"must be a finite number in {bracket}{low:g}, {high:g}]"
            )
        return value

    def integer(self, name: str, default: int, *, low: int = 0, high: int = 2**63 - 1) -> int:
        raw = self.text(name, "")
        if raw == "":
            return default
        if not re.fullmatch(r"[+-]?\d+", raw) or not low <= int(raw) <= high:
            raise DeviceURLError(name, raw, f"must be a whole number from {low} to {high}")
        return int(raw)

    def every(self, name: str) -> list[str]:
        """Every value of a parameter that may repeat (``fault=...&fault=...``)."""
        return self._values(name)

    def finish(self) -> None:
        """Refuse any parameter no getter asked for."""
        for key, value in self.params:
            if key not in self._used:
                known = ", ".join(sorted(self._used)) or "none"
                raise DeviceURLError(
                    key, value, f"unknown parameter for {self.backend}://; known: {known}"
                )


def parse_device_url(url: str) -> DeviceURL:
    """Split ``url`` into backend, location and parameters; raise `DeviceURLError` if malformed."""
    if not isinstance(url, str) or "://" not in url:
        raise DeviceURLError(
            "url", url, "must look like backend://location?name=value, e.g. sim://?load=gel"
        )
    parts = urlsplit(url)
    backend = parts.scheme.lower()
    if not _SCHEME.match(backend) or not url.lower().startswith(backend + "://"):
        raise DeviceURLError("url", url, "must start with a backend name and ://, e.g. sim://")
    if parts.fragment:
        raise DeviceURLError("url", url, "must not contain a # fragment")
    try:
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise DeviceURLError(
            "url", url, "parameters must be name=value pairs joined by &"
        ) from None
    return DeviceURL(url=url, backend=backend, location=parts.netloc + parts.path, params=params)
