"""`Controls`: what other threads ask of a running session, taken by the runner at its next tick.

The live view's thread, a web request or a subscriber may pause, resume, stop or change the level
at any moment; the runner alone touches the device, so every request waits in here, under a
lock, until the runner's next tick takes them all at once. Every request carries its `Operator`,
so the event it becomes (and the record) says who sent it.

No request waits out that tick: each sets `wake`, which ends the runner's wait in progress on a
clock that can be woken (`microamp.clock.Wakeable`), so a pause, a level or a Stop acts as soon
as it is made. A Stop or a fault also sets `urgent`, the one event the prechecks' waits end on
(the contact check passes current, and only a Stop or a fault may cut it short). The runner says
when it waits (`waiting`), so its end can tell how the request reached it (`heard`).
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
        # set by every request (`urgent` by a Stop or a fault only); both cleared when the runner
        # next takes its faults
        self.wake = threading.Event()
        self.urgent = threading.Event()
        self._waiting = False
        self._came_while_waiting = False

    def request(self, action: Action, operator: Operator | None = None) -> None:
        with self._lock:
            self._actions.append((action, operator))
            if action == "stop":
                self._urgent()
            else:
                self.wake.set()

    def _urgent(self) -> None:
        """Under the lock: wake the runner now, in the prechecks too."""
        self._came_while_waiting = self._came_while_waiting or self._waiting
        self.urgent.set()
        self.wake.set()

    def waiting(self, waiting: bool) -> bool:
        """The runner starts (True) or ends (False) a wait; whether `wake` is set now. A wait
        ended with `wake` set ended on it (or at its deadline as the request came: no later)."""
        with self._lock:
            self._waiting = waiting
            if waiting:
                self._came_while_waiting = False
            return self.wake.is_set()

    def heard(self, woken: bool) -> str:
        """How the Stop or fault being taken reached the runner, given whether its last wait
        ended on `wake`: ``woke`` (it cut that wait short), ``between`` (it came while the
        runner worked: taken at its next turn, no wait in between) or ``deadline`` (it came
        during a wait that ran to its end: a clock that cannot be woken)."""
        with self._lock:
            if not self._came_while_waiting:
                return "between"
        return "woke" if woken else "deadline"

    def request_level(self, level: float, operator: Operator | None = None) -> None:
        with self._lock:
            self._level = (level, operator)
            self.wake.set()

    def request_fault(self, fault: Fault) -> None:
        """A fault seen outside the runner (its recorder fell behind): it ends the session."""
        with self._lock:
            self._faults.append(fault)
            self._urgent()

    def take_faults(self) -> list[Fault]:
        """The faults raised outside the runner since the last call (the start of its tick:
        `wake` and `urgent` are cleared here, so only a request from now on wakes its next
        wait)."""
        with self._lock:
            self.wake.clear()
            self.urgent.clear()
            faults, self._faults = self._faults, []
        return faults

    def stop_pending(self) -> Request | None:
        """The Stop waiting, if one is: long-running work (the prechecks) ends at once on it."""
        with self._lock:
            return next((r for r in self._actions if r[0] == "stop"), None)

    def urgent_pending(self) -> bool:
        """A Stop or a fault is waiting: the prechecks end at once on either."""
        with self._lock:
            return bool(self._faults) or any(r[0] == "stop" for r in self._actions)

    def take(self) -> tuple[list[Request], tuple[float, Operator | None] | None]:
        """Every pending action and the pending level (None: no change), clearing both."""
        with self._lock:
            actions, self._actions = self._actions, []
            level, self._level = self._level, None
        return actions, level
