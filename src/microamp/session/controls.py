"""`Controls`: what other threads ask of a running session, taken by the runner at its next tick.

The live view's thread, a web request or a subscriber may pause, resume, stop or change the level
at any moment; the runner alone touches the device, so every request waits in here, under a
lock, until the runner's next tick takes them all at once.
"""

from __future__ import annotations

import threading
from typing import Literal

__all__ = ["Action", "Controls"]

Action = Literal["pause", "resume", "stop"]


class Controls:
    """Requests in arrival order, and the latest level asked for (an earlier one is moot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: list[Action] = []
        self._level: float | None = None

    def request(self, action: Action) -> None:
        with self._lock:
            self._actions.append(action)

    def request_level(self, level: float) -> None:
        with self._lock:
            self._level = level

    def stop_pending(self) -> bool:
        """True once a Stop waits: long-running work (the prechecks) ends at once on it."""
        with self._lock:
            return "stop" in self._actions

    def take(self) -> tuple[list[Action], float | None]:
        """Every pending action and the pending level (None: no change), clearing both."""
        with self._lock:
            actions, self._actions = self._actions, []
            level, self._level = self._level, None
        return actions, level
