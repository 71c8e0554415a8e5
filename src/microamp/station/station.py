"""`Station`: the one owner of one device. It registers in the store, beats, takes the
controls addressed to it, runs sessions locally and answers every control.

    station = Station(store, name="Room 2", device_url="sim://?load=gel")
    station.start()          # registers; a thread takes controls (woken by NOTIFY or a poll)
    ...
    station.stop()           # stops its sessions (output zero first), then goes offline

Each step of its loop is a small function: take and run the pending controls, beat, sweep. The
device lease (`microamp.store.leases`) stays the mutual exclusion: a station starts a session
only once it holds its device's lease, like any other process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from microamp.clock import RealClock
from microamp.devices import open_device
from microamp.devices.registry import BACKENDS
from microamp.devices.urls import parse_device_url
from microamp.errors import DeviceError, DeviceURLError, InvalidValue, InvalidValues, StoreError
from microamp.session import Operator
from microamp.station.live import LiveSession, LiveSessions, SessionEnded, StartRequest
from microamp.station.prechecks import leased_checks
from microamp.station.publish import Publisher
from microamp.station.wake import Listener
from microamp.store.base import utc_now
from microamp.store.db import HoldWatch, Store
from microamp.store.journal import hand_over_all
from microamp.store.lease_keeper import LeaseKeeper
from microamp.store.leases import DeviceBusy, device_identity, holder_token
from microamp.store.protocol_store import load_named_protocol
from microamp.store.station_models import LiveState, StationControl
from microamp.store.stations import (
    SWEEP_S,
    answer_control,
    live_row,
    open_live,
    pending_controls,
    register_station,
    station_beat,
    station_off,
    sweep,
    take_control,
)

__all__ = ["BEAT_S", "POLL_S", "Station", "refusal"]

# Wall seconds between heartbeats, and between polls for controls when nothing woke us.
BEAT_S = 1.0
POLL_S = 0.25
# A control is answered once the runner shows it, or after this (wall seconds) at the latest.
_TAKE_S = 2.0
_STORE_LOST = Operator("the station, which lost its link to the store", None, "station")
_log = logging.getLogger(__name__)


def refusal(exc: Exception) -> dict[str, Any]:
    """A refused control's answer: enough for the operator's side to raise the same error."""
    if isinstance(exc, DeviceBusy):
        return {"error": "busy"} | exc.busy.to_dict()
    if isinstance(exc, InvalidValues):
        return {"error": "invalid", "values": [_invalid(e) for e in exc.errors]}
    if isinstance(exc, InvalidValue):
        return {"error": "invalid", "values": [_invalid(exc)]}
    if isinstance(exc, SessionEnded):
        return {"error": "ended"}
    if isinstance(exc, DeviceError):
        return {"error": "device"}
    return {"error": "refused"}


def _invalid(exc: InvalidValue) -> dict[str, Any]:
    value = exc.value if isinstance(exc.value, int | float | str | None) else str(exc.value)
    return {"field": exc.field, "value": value, "rule": exc.rule}


class Station:
    """Runs the sessions of one device for whoever asks through the store."""

    def __init__(
        self,
        store: Store,
        *,
        name: str,
        device_url: str,
        speed: float = 1.0,
        poll_s: float = POLL_S,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.name = name
        self.device_url = device_url
        self.device = device_identity(device_url)
        backend = parse_device_url(device_url).backend
        if backend not in BACKENDS:
            raise DeviceURLError("device", device_url, f"unknown backend; known: "
                                 f"{', '.join(BACKENDS)}")  # fmt: skip
        self.sessions = LiveSessions(store=store, speed=speed)
        self.holder = holder_token()
        self.poll_s = poll_s
        self.bell = threading.Event()
        self._wall = wall
        self._stopped = threading.Event()
        self._publishers: dict[str, Publisher] = {}
        self._lock = threading.Lock()
        self._beat_at = self._sweep_at = 0.0
        self._thread = threading.Thread(target=self._loop, name=f"station-{name}", daemon=True)
        self._listener: Listener | None = None
        self._watch: HoldWatch | None = None
        self.lost = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, *, check_device: bool = True) -> None:
        """Open the device once (``check_device``: its capabilities, and proof that it
        answers), register
        (raises `InvalidValue` if another station is online by that name or for that device)
        and take controls in a thread. Raises `DeviceError` when the device cannot be opened."""
        capabilities = self._capabilities_now() if check_device else {}
        self.hand_over()  # what a station before this one could not write
        with self.store.transaction() as db:
            register_station(db, name=self.name, device_url=self.device_url, device=self.device,
                             capabilities=capabilities, holder=self.holder,
                             now=self._wall())  # fmt: skip
        if self.store.dialect == "postgresql":
            self._watch = HoldWatch(self.store.engine, self.store.settings.station_hold_s,
                                    on_cut=self._link_silent)  # fmt: skip
            self._listener = Listener(self.store.engine.url, self.name, self.bell)
            self._listener.start()
        self._thread.start()

    def _capabilities_now(self) -> dict[str, Any]:
        """The device's capabilities, opened under its lease (a device another process drives
        now is left alone: its capabilities come with the first session)."""
        try:
            hold = LeaseKeeper.acquire(self.store, self.device_url)
        except DeviceBusy:
            return {}
        try:
            with open_device(self.device_url, clock=RealClock()) as device:
                return device.capabilities.to_dict()
        finally:
            hold.release()

    def ring(self, name: str | None = None) -> None:
        """Wake the station now (a control was written for ``name``, if given)."""
        if name is None or name == self.name:
            self.bell.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every session (output zero first), publish their ends, go offline."""
        self._stopped.set()
        self.bell.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self.sessions.shutdown(timeout_s)
        for publisher in list(self._publishers.values()):
            publisher.thread.join(timeout_s)
        if self._listener is not None:
            self._listener.stop()
        if self._watch is not None:
            self._watch.stop()
        try:
            with self.store.transaction() as db:
                station_off(db, name=self.name, holder=self.holder)
        except SQLAlchemyError as exc:
            _log.warning("station %s could not say it went offline: %s", self.name, exc)

    def _link_silent(self) -> None:
        # a connection that stopped answering: the station may not hear Stop, output to zero
        _log.error("station %s: the store stopped answering, stopping output", self.name)
        self.stop_sessions(_STORE_LOST)

    def stop_sessions(self, operator: Operator) -> None:
        """Stop every session this station runs, in ``operator``'s name (the runner zeroes
        the output at its next tick)."""
        for snapshot in self.sessions.snapshot():
            live = self.sessions.get(str(snapshot["id"]))
            if live is not None and not live.done:
                live.control("stop", operator)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the station stops (or ``timeout_s``); whether it stopped."""
        return self._stopped.wait(timeout_s)

    # -- the loop --------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self.bell.wait(self.poll_s)
            self.bell.clear()
            if self._stopped.is_set():
                return
            try:
                self.step()
            except SQLAlchemyError as exc:
                # it can no longer hear Stop: output to zero first, then keep trying the store
                _log.error("station %s cannot reach the store, stopping output: %s", self.name, exc)
                self.stop_sessions(_STORE_LOST)

    def step(self) -> None:
        """One turn: the pending controls, the journals of sessions ended while the store was
        out of reach, then the heartbeat and the sweep when they are due."""
        self.take_controls()
        self.hand_over()
        now = time.monotonic()
        if now - self._beat_at >= BEAT_S:
            self._beat_at = now
            self.beat()
        if now - self._sweep_at >= SWEEP_S:
            self._sweep_at = now
            with self.store.transaction() as db:
                sweep(db, now=self._wall())

    def hand_over(self) -> list[int]:
        """Write the journals of this data directory's ended sessions to the store (a station
        that lost the store kept there what it could not write); the record ids handed over."""
        written = hand_over_all(self.store, busy=self.sessions.recording())
        for record_id in written:
            _log.warning("station %s handed over the journal of record %s", self.name, record_id)
        return written

    def beat(self) -> None:
        with self.store.transaction() as db:
            held = station_beat(db, name=self.name, holder=self.holder, now=self._wall(),
                                live_id=self.busy_with())  # fmt: skip
        if not held and not self.lost:
            # another station registered under this name: it owns the device's sessions now
            self.lost = True
            _log.error("station %s was replaced by another of that name; stopping", self.name)
            self._stopped.set()

    def busy_with(self) -> str | None:
        """The live id of the session this station runs, if any."""
        with self._lock:
            return next(iter(self._publishers), None)

    def take_controls(self) -> None:
        with self.store.session() as db:
            pending = list(pending_controls(db, station=self.name))
        self._stop_first(pending)
        for control in pending:
            with self.store.transaction() as db:
                if not take_control(db, control.id, now=self._wall()):
                    continue
            ok, message, answer = self._execute(control)
            with self.store.transaction() as db:
                answer_control(db, control.id, ok=ok, now=self._wall(), message=message,
                               answer=answer)  # fmt: skip

    def _stop_first(self, pending: list[StationControl]) -> None:
        """Every Stop among ``pending`` reaches its runner now, before any control is claimed
        or run: a Stop never waits behind the transactions of claiming, nor behind an earlier
        control's wait to be seen. Stopping is always safe, so acting on one before its claim
        (and again when it is claimed) changes nothing but the time to zero."""
        for control in pending:
            live = self.sessions.get(control.live_id) if control.action == "stop" else None
            if live is not None and not live.done:
                live.control("stop", Operator(control.operator_name, control.operator_id,
                                              control.operator_via))  # fmt: skip

    # -- controls --------------------------------------------------------------------------

    def _execute(self, control: StationControl) -> tuple[bool, str, dict[str, Any]]:
        operator = Operator(control.operator_name, control.operator_id, control.operator_via)
        try:
            if control.action == "start":
                return True, "", self._start(control)
            if control.action == "precheck":
                return True, "", self._precheck(control)
            self._steer(control, operator)
            return True, "", {}
        except (InvalidValue, DeviceBusy, DeviceError, SessionEnded, StoreError) as exc:
            return False, str(exc), refusal(exc)
        except SQLAlchemyError as exc:  # the store refused what the control needed written
            return False, f"the store refused it: {type(exc).__name__}", {"error": "refused"}

    def _start(self, control: StationControl) -> dict[str, Any]:
        request = StartRequest.from_dict(control.value)
        if device_identity(request.device_url) != self.device:
            raise InvalidValue("device_url", request.device_url, f"the station {self.name} "
                               f"drives {self.device_url}")  # fmt: skip
        on = date.fromisoformat(str(control.value.get("on", date.today().isoformat())))
        live = self.sessions.start(request, on=on, live_id=control.live_id)
        with self.store.transaction() as db:
            open_live(db, self._live_state(live))
        publisher = Publisher(self.store, live, wall=self._wall, on_done=self._finished)
        with self._lock:
            self._publishers[live.id] = publisher
        publisher.start()
        self._beat_at = 0.0  # say busy at once
        self.bell.set()
        return {"live_id": live.id, "record_id": live.record_id}

    def _precheck(self, control: StationControl) -> dict[str, Any]:
        """The console's device checks, here where the device is (`DeviceBusy` while a
        session drives it)."""
        value = control.value
        if device_identity(str(value["device_url"])) != self.device:
            raise InvalidValue("device_url", value["device_url"], f"the station {self.name} "
                               f"drives {self.device_url}")  # fmt: skip
        with self.store.session() as db:
            protocol = load_named_protocol(db, str(value["protocol"]))
        cap = value.get("practitioner_max_ua")
        return leased_checks(
            self.store, protocol, str(value["device_url"]), speed=self.sessions.speed,
            cap=None if cap is None else float(cap), intensity=float(value["intensity"]),
            avoid_zones=tuple(value.get("avoid_zones", ())),
        )  # fmt: skip

    def _live_state(self, live: LiveSession) -> LiveState:
        request, state, now = live.request, live.state(), self._wall()
        return LiveState(
            id=live.id, station=self.name, client_id=request.client_id,
            client_name=request.client_name, protocol=request.protocol,
            device_url=request.device_url, intensity=request.intensity,
            practitioner_id=request.practitioner_id,
            practitioner_max_ua=request.practitioner_max_ua,
            personal=None if request.personal is None else request.personal.to_dict(),
            run_protocol=live.runner.protocol.model_dump(mode="json", exclude_none=True),
            record_id=live.record_id,
            status=state["status"], state=state, done=False, error="", message_count=0,
            started_at=now, updated_at=now,
        )  # fmt: skip

    def _finished(self, live: LiveSession) -> None:
        with self._lock:
            self._publishers.pop(live.id, None)
        self._beat_at = 0.0  # say free at once
        self.bell.set()

    def _steer(self, control: StationControl, operator: Operator) -> None:
        live = self.sessions.get(control.live_id)
        if live is None or live.done:
            if control.action == "level":
                raise SessionEnded("the session has ended")
            with self.store.session() as db:
                row = live_row(db, control.live_id)
            if row is None or not row.done:
                raise StoreError(f"the station {self.name} does not run session {control.live_id}")
            return  # pause, resume or stop of a session already over: nothing to do
        if control.action == "level":
            level = control.value.get("level")
            if isinstance(level, bool) or not isinstance(level, int | float):
                raise InvalidValue("level", level, "a level of 0-1")
            live.set_intensity(float(level), operator)
        elif control.action in ("pause", "resume", "stop"):
            live.control(control.action, operator)  # type: ignore[arg-type]
        else:
            raise InvalidValue("action", control.action, "start, pause, resume, stop or level")
        self._until_taken(live, control)

    def _until_taken(self, live: LiveSession, control: StationControl) -> None:
        """Wait (bounded) until the runner shows the control in force, and publish that: an
        answered control is one the console already sees."""
        runner, action = live.runner, control.action
        # the snapshot, not the runner's own status: the console reads the snapshot
        taken: dict[str, Callable[[], bool]] = {
            "pause": lambda: str(runner.snapshot().status) == "paused",
            "resume": lambda: str(runner.snapshot().status) != "paused",
            "stop": lambda: runner.snapshot().status.final,
            "level": lambda: runner.snapshot().intensity == control.value.get("level"),
        }
        deadline = time.monotonic() + _TAKE_S
        while not (taken[action]() or runner.status.final or live.done):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        with self._lock:
            publisher = self._publishers.get(live.id)
        if publisher is not None:
            publisher.publish_once()
