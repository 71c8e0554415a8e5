"""`Controls`: what other threads ask of a running session, taken by the runner at its next tick.

The live view's thread, a web request or a subscriber may pause, resume, stop or change the level
at any moment; the runner alone touches the device, so every request waits in here, under a
lock, until the runner's next tick takes them all at once. Every request carries its `Operator`,
so the event it becomes (and the record) says who sent it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from microamp.safety.faults import Fault

__all__ = ["Action", "Controls", "Operator", "Request", "by", "operator_dict"]

Action = Literal["pause", "resume", "stop"]


@dataclass(frozen=True, slots=True)
class Operator:
    """Who sent a control: a clinic user (``user_id`` and display name, from the web app or
    the API) or the OS user at the terminal (``via`` "cli", no user id)."""

    name: str
    user_id: int | None = None
    via: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "name": self.name, "via": self.via}


def operator_dict(operator: Operator | None) -> dict[str, Any] | None:
    return operator.to_dict() if operator is not None else None


def by(operator: Operator | None) -> str:
    """``by Dana Reyes`` (or ``by the operator`` when the caller did not say who)."""
    return f"by {operator.name}" if operator is not None else "by the operator"


Request = tuple[Action, Operator | None]


class Controls:
    """Requests in arrival order, and the latest level asked for (an earlier one is moot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: list[Request] = []
        self._level: tuple[float, Operator | None] | None = None
        self._faults: list[Fault] = []

    def request(self, action: Action, operator: Operator | None = None) -> None:
        with self._lock:
            self._actions.append((action, operator))

    def request_level(self, level: float, operator: Operator | None = None) -> None:
        with self._lock:
            self._level = (level, operator)

    def request_fault(self, fault: Fault) -> None:
        """A fault seen outside the runner (its recorder fell behind): it ends the session."""
        with self._lock:
            self._faults.append(fault)

    def take_faults(self) -> list[Fault]:
        with self._lock:
            faults, self._faults = self._faults, []
        return faults

    def stop_pending(self) -> Request | None:
        """The Stop waiting, if one is: long-running work (the prechecks) ends at once on it."""
        with self._lock:
            return next((r for r in self._actions if r[0] == "stop"), None)

    def take(self) -> tuple[list[Request], tuple[float, Operator | None] | None]:
        """Every pending action and the pending level (None: no change), clearing both."""
        with self._lock:
            actions, self._actions = self._actions, []
            level, self._level = self._level, None
        return actions, level
