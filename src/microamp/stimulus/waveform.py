"""The `Waveform`: an immutable description of one current waveform.

A waveform is parametric, never a list of samples: the same value drives a renderer on the host
and a firmware that renders itself. Definitions, per period T = 1 / frequency_hz, with the sign
taken from the polarity:

- ``square``: a monophasic rectangular pulse, +A for duty x T, then 0.
- ``ramped-square``: the same with linear rise and fall of rise_s each.
- ``sine``: A sin(2 pi f t).  ``triangle``: the symmetric triangle between -A and +A.
- ``pulse``: a rectangular pulse of phase_us, once per period.

Polarity ``positive`` | ``negative`` | ``alternating`` (the sign flips every reversal_s, starting
positive) | ``biphasic`` (each pulse is followed at once by an equal and opposite one, each taking
half the on-time; sine and triangle are already symmetric and render unchanged).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, get_args

from microamp.errors import InvalidValue

__all__ = [
    "FREQUENCY_MAX_HZ",
    "FREQUENCY_MIN_HZ",
    "POLARITIES",
    "SHAPES",
    "Polarity",
    "Shape",
    "Waveform",
]

Shape = Literal["square", "ramped-square", "sine", "triangle", "pulse"]
Polarity = Literal["positive", "negative", "alternating", "biphasic"]
SHAPES: tuple[str, ...] = get_args(Shape)
POLARITIES: tuple[str, ...] = get_args(Polarity)

FREQUENCY_MIN_HZ = 0.1
FREQUENCY_MAX_HZ = 2000.0
# A generous ceiling on the number itself; the safety limits cap what may reach a person.
AMPLITUDE_CEILING_UA = 50_000.0


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(name, value, "must be a number")
    if not math.isfinite(value):
        raise InvalidValue(name, value, "must be a finite number")
    return float(value)


@dataclass(frozen=True, slots=True)
class Waveform:
    """One current waveform. Amplitudes in µA, times in seconds (phase in µs), frequency in Hz.

    Raises `InvalidValue` naming the field, the value and the allowed range on construction.
    """

    shape: Shape = "square"
    amplitude_ua: float = 200.0
    frequency_hz: float = 10.0
    duty: float = 0.5
    polarity: Polarity = "alternating"
    reversal_s: float = 2.5
    rise_s: float = 0.0
    phase_us: float = 500.0
    burst_on_s: float | None = None
    burst_off_s: float | None = None

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise InvalidValue("shape", self.shape, f"must be one of {', '.join(SHAPES)}")
        if self.polarity not in POLARITIES:
            raise InvalidValue("polarity", self.polarity, f"must be one of {', '.join(POLARITIES)}")
        amplitude = _finite("amplitude_ua", self.amplitude_ua)
        if not 0.0 <= amplitude <= AMPLITUDE_CEILING_UA:
            raise InvalidValue(
                "amplitude_ua", amplitude, f"must be between 0 and {AMPLITUDE_CEILING_UA:g} µA"
            )
        frequency = _finite("frequency_hz", self.frequency_hz)
        if not FREQUENCY_MIN_HZ <= frequency <= FREQUENCY_MAX_HZ:
            raise InvalidValue(
                "frequency_hz",
                frequency,
                f"must be between {FREQUENCY_MIN_HZ:g} and {FREQUENCY_MAX_HZ:g} Hz",
            )
        duty = _finite("duty", self.duty)
        if not 0.0 < duty <= 1.0:
            raise InvalidValue("duty", duty, "must be greater than 0 and at most 1")
        if not _finite("reversal_s", self.reversal_s) > 0.0:
            raise InvalidValue("reversal_s", self.reversal_s, "must be greater than 0 s")
        self._check_rise(duty, frequency)
        self._check_phase(frequency)
        self._check_burst()

    def _check_rise(self, duty: float, frequency_hz: float) -> None:
        rise_s = _finite("rise_s", self.rise_s)
        if rise_s < 0.0:
            raise InvalidValue("rise_s", rise_s, "must be at least 0 s")
        if self.shape == "ramped-square":
            pulses = 2 if self.polarity == "biphasic" else 1
            on_s = duty / frequency_hz / pulses
            if 2.0 * rise_s > on_s * (1 + 1e-9):
                raise InvalidValue(
                    "rise_s",
                    rise_s,
                    f"rise and fall must fit in each pulse's on-time: at most {on_s / 2:g} s "
                    f"at this frequency and duty",
                )

    def _check_phase(self, frequency_hz: float) -> None:
        phase_us = _finite("phase_us", self.phase_us)
        if phase_us <= 0.0:
            raise InvalidValue("phase_us", phase_us, "must be greater than 0 µs")
        if self.shape == "pulse":
            period_us = 1e6 / frequency_hz
            if phase_us > period_us:
                raise InvalidValue(
                    "phase_us",
                    phase_us,
                    f"a pulse must fit in its period: at most {period_us:g} µs at "
                    f"{frequency_hz:g} Hz",
                )

    def _check_burst(self) -> None:
        on, off = self.burst_on_s, self.burst_off_s
        if (on is None) != (off is None):
            name = "burst_off_s" if off is None else "burst_on_s"
            raise InvalidValue(name, None, "burst_on_s and burst_off_s are given together")
        if on is not None and off is not None:
            if not _finite("burst_on_s", on) > 0.0:
                raise InvalidValue("burst_on_s", on, "must be greater than 0 s")
            if not _finite("burst_off_s", off) >= 0.0:
                raise InvalidValue("burst_off_s", off, "must be at least 0 s")

    @property
    def period_s(self) -> float:
        return 1.0 / self.frequency_hz

    @property
    def on_fraction(self) -> float:
        """The fraction of each period in which a pulse shape is on (1 for sine and triangle)."""
        if self.shape == "pulse":
            return min(1.0, self.phase_us * 1e-6 * self.frequency_hz)
        if self.shape in ("square", "ramped-square"):
            return self.duty
        return 1.0

    @property
    def is_pulsed(self) -> bool:
        return self.shape in ("square", "ramped-square", "pulse")

    def with_amplitude(self, amplitude_ua: float) -> Waveform:
        return replace(self, amplitude_ua=amplitude_ua)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Waveform:
        """Build from a mapping; an unknown key is an `InvalidValue` naming it."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise InvalidValue(
                    key, data[key], f"unknown waveform field; known: {sorted(known)}"
                )
        return cls(**data)
