"""`StoreSessions`: the sessions of every station, as a web worker sees them: through the store.

The same interface the pages and the API used when sessions ran inside the web process (`get`,
`snapshot`, `start`; a session's `state`, `messages_since`, `control`, `set_intensity`, `done`,
`record_id`), but nothing is held here: a start or a control is a row for the station that owns
the device, and its answer is waited for (bounded); state and messages are what the station
wrote. So any worker serves any request. A refused control raises what a local session would
have raised: `InvalidValue`, `DeviceBusy`, `DeviceError`, `SessionEnded`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from microamp.errors import DeviceError, InvalidValue, InvalidValues, StoreError
from microamp.protocols import PlannedStep, parse_protocol, plan_protocol
from microamp.protocols.home_routines import Personalisation
from microamp.safety.limits import get_profile
from microamp.session import Operator
from microamp.station.live import FRESH_S, SessionEnded, StartRequest, start_protocol
from microamp.store.base import utc_now
from microamp.store.db import Store
from microamp.store.leases import Busy, DeviceBusy, device_identity
from microamp.store.station_models import LiveState
from microamp.store.stations import (
    ControlAnswer,
    StationView,
    abandon_control,
    control_answer,
    list_stations,
    live_messages,
    live_row,
    request_control,
    running_lives,
)

__all__ = [
    "ANSWER_S",
    "ControlRefused",
    "RemoteSession",
    "StationUnavailable",
    "StoreSessions",
]

# A station answers a control within this (wall seconds) or the control is given up.
ANSWER_S = 10.0
_POLL_FIRST_S, _POLL_MAX_S = 0.01, 0.05


class StationUnavailable(StoreError):
    """No station (online) takes the control: the device is offline (API 503)."""


class ControlRefused(StoreError):
    """The station refused a control, saying why (API 409)."""


def _raised(message: str, answer: dict[str, Any]) -> Exception:
    kind = answer.get("error")
    if kind == "invalid":
        values = [InvalidValue(v["field"], v["value"], v["rule"]) for v in answer["values"]]
        return values[0] if len(values) == 1 else InvalidValues(values)
    if kind == "busy":
        expires = datetime.fromisoformat(str(answer["expires_at"]))
        return DeviceBusy(Busy(str(answer["device"]), "", answer.get("session_id"), expires))
    if kind == "ended":
        return SessionEnded(message)
    if kind == "device":
        return DeviceError(message)
    return ControlRefused(message)


class RemoteSession:
    """One session a station runs, read from the store (refreshed by `state` and `refresh`)."""

    def __init__(self, sessions: StoreSessions, row: LiveState) -> None:
        self.sessions = sessions
        self.row = row

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def station(self) -> str:
        return self.row.station

    @property
    def request(self) -> StartRequest:
        r = self.row
        personal = None if r.personal is None else Personalisation.from_dict(r.personal)
        return StartRequest(r.client_id, r.client_name, r.protocol, r.device_url, r.intensity,
                            r.practitioner_id or 0, r.practitioner_max_ua,
                            personal=personal)  # fmt: skip

    @property
    def record_id(self) -> int:
        return self.row.record_id or 0

    @property
    def done(self) -> bool:
        return self.row.done

    @property
    def error(self) -> str:
        return self.row.error

    def refresh(self) -> RemoteSession:
        with self.sessions.store.session() as db:
            row = live_row(db, self.id)
        if row is not None:
            self.row = row
        return self

    def state(self) -> dict[str, Any]:
        """What the console shows now, as the station last wrote it; a reading older than
        `FRESH_S` is no reading."""
        row = self.refresh().row
        state = dict(row.state) | {"done": row.done, "record_id": row.record_id}
        stale = self.sessions.wall() - row.updated_at > timedelta(seconds=FRESH_S)
        if stale or row.done:
            state |= {"delivered_ua": None, "delivered_peak_ua": None, "holding": ""}
        return state

    def messages_since(self, cursor: int) -> list[tuple[int, str, dict[str, Any]]]:
        with self.sessions.store.session() as db:
            return live_messages(db, self.id, cursor)

    def planned(self) -> tuple[PlannedStep, ...]:
        """The steps of its protocol as planned for its audience (the face map, the list): the
        protocol the station runs, as it wrote it on the row, so an edit of her routine since
        the start changes nothing here. A row written before the run's protocol was kept
        rebuilds the routine as it is now."""
        if self.row.run_protocol is not None:
            data = self.row.run_protocol
            profile = get_profile(str(data["audience"]))
            return tuple(plan_protocol(parse_protocol(data, profile), profile))
        request = self.request
        if request.personal is not None:  # drawn as it is now: no hash to hold it to
            request = replace(request, personal=replace(request.personal, content_hash=""))
        with self.sessions.store.session() as db:
            protocol, _kept = start_protocol(db, request)
        return tuple(plan_protocol(protocol, get_profile(protocol.audience)))

    def control(self, action: str, operator: Operator) -> None:
        """Pause, resume or stop in ``operator``'s name, once the station has done it."""
        self.sessions.send(self.station, self.id, action, {}, operator)

    def set_intensity(self, level: float, operator: Operator) -> None:
        """The level (0-1), in force as soon as the runner wakes to it. Raises `SessionEnded` once the session
        is over, `InvalidValue` outside 0-1."""
        if not 0 <= level <= 1:
            raise InvalidValue("level", level, "a level of 0-1")
        self.sessions.send(self.station, self.id, "level", {"level": level}, operator)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the session's end; whether it ended."""
        deadline = time.monotonic() + timeout_s
        while not self.refresh().done and time.monotonic() < deadline:
            time.sleep(_POLL_MAX_S)
        return self.done


class StoreSessions:
    """The sessions of every station, through the store. ``ring(station)`` wakes a station of
    this process at once (the embedded one); others are woken by NOTIFY or poll."""

    def __init__(
        self,
        store: Store,
        *,
        ring: Callable[[str], None] = lambda _name: None,
        answer_s: float = ANSWER_S,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.ring = ring
        self.answer_s = answer_s
        self.wall = wall

    def stations(self) -> list[StationView]:
        with self.store.session() as db:
            return list_stations(db, now=self.wall())

    def station_for(self, device_url: str, name: str | None = None) -> StationView:
        """The station named ``name``, else the one online for ``device_url``'s device, else
        the only one registered. Raises `InvalidValue` for an unknown name,
        `StationUnavailable` when it is offline or there is none."""
        stations = self.stations()
        if name is not None:
            found = [s for s in stations if s.name == name]
            if not found:
                raise InvalidValue("device", name, "the name of a registered station")
            chosen = found[0]
        else:
            device = device_identity(device_url)
            online = [s for s in stations if s.online and s.device == device]
            by_device = online or [s for s in stations if s.device == device]
            if not by_device and len(stations) != 1:
                raise StationUnavailable(f"no station drives {device_url}; start one with "
                                         f"microamp station --device {device_url}")  # fmt: skip
            chosen = (by_device or stations)[0]
        if not chosen.online:
            raise StationUnavailable(f"the station {chosen.name} is offline")
        return chosen

    def get(self, live_id: str) -> RemoteSession | None:
        with self.store.session() as db:
            row = live_row(db, live_id)
        return RemoteSession(self, row) if row is not None else None

    def snapshot(self) -> list[dict[str, Any]]:
        """Sessions still running, for the dashboard and the API."""
        with self.store.session() as db:
            rows = running_lives(db)
        return [
            {
                "id": r.id,
                "client_id": r.client_id,
                "client_name": r.client_name,
                "protocol": r.protocol,
                "state": r.status,
                "record_id": r.record_id,
                "station": r.station,
            }  # fmt: skip
            for r in rows
        ]

    def start(
        self,
        request: StartRequest,
        *,
        on: date,
        operator: Operator | None = None,
        station: str | None = None,
    ) -> RemoteSession:
        """Ask the station of ``request.device_url`` (or the one named ``station``) to start
        it, and wait for its answer. Raises what the station refused with (`InvalidValue`,
        `DeviceBusy`, `DeviceError`) or `StationUnavailable`."""
        chosen = self.station_for(request.device_url, station)
        live_id = secrets.token_hex(8)
        operator = operator or Operator(f"user {request.practitioner_id}",
                                        request.practitioner_id, "web")  # fmt: skip
        value = request.to_dict() | {"on": on.isoformat()}
        self.send(chosen.name, live_id, "start", value, operator)
        started = self.get(live_id)
        if started is None:
            raise StoreError(f"the station {chosen.name} started {live_id} but wrote no state")
        return started

    def precheck(
        self,
        device_url: str,
        value: dict[str, Any],
        operator: Operator,
    ) -> dict[str, Any]:
        """The device checks of the console (``checks``, ``capped``), run by the station of
        ``device_url``: only it opens the device. Raises `DeviceBusy` while a session drives
        it, `StationUnavailable`, `InvalidValue`, `DeviceError`."""
        chosen = self.station_for(device_url)
        return self.send(chosen.name, "", "precheck", value | {"device_url": device_url},
                         operator)  # fmt: skip

    def send(
        self, station: str, live_id: str, action: str, value: dict[str, Any], operator: Operator
    ) -> dict[str, Any]:
        """Write the control, wake its station, wait for the answer; the answer when done,
        else raises what it was refused with."""
        with self.store.transaction() as db:
            control_id = request_control(
                db, station=station, live_id=live_id, action=action, value=value,
                operator=(operator.name, operator.user_id, operator.via), now=self.wall(),
            )  # fmt: skip
        self.ring(station)
        answer = self._await(control_id, station)
        if answer.ok:
            return answer.answer
        raise _raised(answer.message, answer.answer)

    def _await(self, control_id: int, station: str) -> ControlAnswer:
        deadline = time.monotonic() + self.answer_s
        pause = _POLL_FIRST_S
        while True:
            with self.store.session() as db:
                answer = control_answer(db, control_id)
            if answer.ok is not None:
                return answer
            if time.monotonic() >= deadline:
                with self.store.transaction() as db:
                    gave_up = abandon_control(db, control_id, now=self.wall(),
                                              message="no answer")  # fmt: skip
                if gave_up or time.monotonic() >= deadline + self.answer_s:
                    raise StationUnavailable(
                        f"the station {station} did not answer within {self.answer_s:g} s"
                    )
            time.sleep(pause)
            pause = min(_POLL_MAX_S, pause * 2)

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Nothing runs here: the stations stop their own sessions."""
