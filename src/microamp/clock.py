"""Clocks: where every timed part of microamp gets its time, so sessions can replay in simulation.

`RealClock` follows the wall clock (optionally faster by a speed factor); `SimulatedClock` only
moves when told to, so a 60-minute session runs as fast as the CPU allows, deterministically;
`PacedClock` is simulated time paced against the wall, for watching a simulated session at N x.

A clock that waits on the wall (`RealClock`, `PacedClock`) is also `Wakeable`: its
`sleep_or_wake` ends early when an event is set (a Stop), so a session hears it at once
instead of at its next tick. `SimulatedClock` never waits, so it has nothing to cut short: a
session in simulated time runs the same whatever is set.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol, runtime_checkable

from microamp.errors import InvalidValue

__all__ = ["Clock", "PacedClock", "RealClock", "SimulatedClock", "Wakeable"]


@runtime_checkable
class Clock(Protocol):
    """Seconds since the clock started, and a way to let time pass."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class Wakeable(Protocol):
    """A clock whose sleep a `threading.Event` can cut short."""

    def sleep_or_wake(self, seconds: float, wake: threading.Event) -> float:
        """Sleep ``seconds`` of clock time, or less if ``wake`` is set (or already set): the
        clock seconds that passed."""
        ...


class RealClock:
    """Wall-clock time since creation, multiplied by ``speed`` (1 = real time)."""

    def __init__(self, speed: float = 1.0) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise InvalidValue("speed", speed, "must be a finite number above 0")
        self.speed = float(speed)
        self._start = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._start) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def sleep_or_wake(self, seconds: float, wake: threading.Event) -> float:
        started = self.now()
        if seconds > 0:
            wake.wait(seconds / self.speed)
        return max(0.0, self.now() - started)


class SimulatedClock:
    """Time that moves only through `sleep` or `advance`: as fast as possible, repeatable."""

    def __init__(self, start_s: float = 0.0) -> None:
        self._now = float(start_s)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._now += seconds


class PacedClock(SimulatedClock):
    """Simulated time paced against the wall: ``sleep(s)`` advances simulated time by ``s`` and
    ends ``s / speed`` wall seconds after the previous sleep ended.

    Time the host spends working is not session time, so a simulated session at 400x keeps
    renewing its commands in time (on a sped-up `RealClock` it would not: the host's own work
    would count 400 times over) and records the same dose as it would at 1x. Each sleep ends at
    a wall deadline rather than lasting a fixed time, so the host's work between two sleeps (and
    a sleep that overshoots) is absorbed and simulated time keeps pace with the wall, as a real
    device's does. A host more than `CATCH_UP_S` behind (a stall, a pause between sessions)
    forgives the rest instead of racing through the debt.
    """

    CATCH_UP_S = 0.1

    def __init__(self, speed: float) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise InvalidValue("speed", speed, "must be a finite number above 0")
        super().__init__()
        self.speed = float(speed)
        self._due_wall_s = time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            now_s = time.monotonic()
            self._due_wall_s = max(self._due_wall_s, now_s - self.CATCH_UP_S) + seconds / self.speed
            if self._due_wall_s > now_s:
                time.sleep(self._due_wall_s - now_s)
            self.advance(seconds)

    def sleep_or_wake(self, seconds: float, wake: threading.Event) -> float:
        """`sleep`, ended early by ``wake``: simulated time then advances by the wall time
        that passed (times ``speed``), never more than ``seconds``, and the next sleep is paced
        from there."""
        if seconds <= 0:
            return 0.0
        now_s = time.monotonic()
        start_s = max(self._due_wall_s, now_s - self.CATCH_UP_S)
        due_s = start_s + seconds / self.speed
        if not wake.wait(max(0.0, due_s - now_s)):
            self._due_wall_s = due_s
            self.advance(seconds)
            return seconds
        slept_s = min(seconds, max(0.0, (time.monotonic() - start_s) * self.speed))
        self._due_wall_s = start_s + slept_s / self.speed
        self.advance(slept_s)
        return slept_s
