"""Sessions under way on a station: the real `SessionRunner` on the device, in a thread each.

The screening and consent hooks come from the clinic's gate (`microamp.store.gating`), so
no current flows for a client who is blocked, whatever the page showed. The store's
`SessionRecorder` writes the record as the session runs. The live view reads `messages_since`:
every event, and telemetry thinned to at most `TELEMETRY_PER_S` frames per wall second (a
session at 100x speed makes far more than a browser should draw).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from microamp.clock import Clock, PacedClock, RealClock
from microamp.devices import open_device
from microamp.devices.base import Device, TelemetryFrame
from microamp.errors import InvalidValue, StoreError
from microamp.protocols.home_routines import Personalisation
from microamp.protocols.schema import Protocol
from microamp.protocols.validate import plan_protocol
from microamp.safety.charge import MIN_REST_S, ChargeAccount
from microamp.safety.limits import get_profile
from microamp.session import (
    Event,
    Operator,
    SessionOptions,
    SessionRunner,
    SessionSummary,
)
from microamp.session.controls import Action
from microamp.store.daily_time import claim_daily_time, planned_seconds
from microamp.store.db import Store
from microamp.store.gating import start_prechecks
from microamp.store.home import check_home_operator, personal_protocol
from microamp.store.lease_keeper import LeaseKeeper
from microamp.store.leases import device_identity
from microamp.store.protocol_store import load_named_protocol
from microamp.store.record_writer import RecordWriter
from microamp.store.recording import SessionRecorder

__all__ = [
    "LiveSession",
    "LiveSessions",
    "SessionEnded",
    "StartRequest",
    "session_clock",
    "start_protocol",
]

TELEMETRY_PER_S = 12.0
# A reading older than this (wall seconds) is no reading: the console never shows a stale current.
FRESH_S = 1.0
_KEEP_FINISHED = 20
_SHUTDOWN = Operator("the server shutting down", None, "server")
_LEASE_LOST = Operator("the lapsed device lease", None, "server")


class SessionEnded(Exception):
    """A control reached a session that has already ended."""


def session_clock(device_url: str, speed: float) -> Clock:
    """The simulator runs on paced simulated time (``speed`` times real time); hardware always
    on the real clock, never sped up."""
    return PacedClock(speed) if device_url.startswith("sim:") else RealClock(1.0)


@dataclass(frozen=True, slots=True)
class StartRequest:
    client_id: int
    client_name: str
    protocol: str
    device_url: str
    intensity: float
    practitioner_id: int
    practitioner_max_ua: float | None = None
    # the booked visit the session is run for: the record is linked to it and completes it
    appointment_id: int | None = None
    # her home routine ``protocol`` as she runs it (skipped, zone levels): the station rebuilds
    # it from the library or her stored routine and validates it under the home profile
    personal: Personalisation | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id, "client_name": self.client_name,
            "protocol": self.protocol, "device_url": self.device_url,
            "intensity": self.intensity, "practitioner_id": self.practitioner_id,
            "practitioner_max_ua": self.practitioner_max_ua,
            "appointment_id": self.appointment_id,
            "personal": None if self.personal is None else self.personal.to_dict(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StartRequest:
        """The request as `to_dict` wrote it; raises `InvalidValue` for a malformed one."""
        try:
            cap = data.get("practitioner_max_ua")
            visit = data.get("appointment_id")
            request = cls(int(data["client_id"]), str(data["client_name"]),
                          str(data["protocol"]), str(data["device_url"]),
                          float(data["intensity"]), int(data["practitioner_id"]),
                          None if cap is None else float(cap),
                          None if visit is None else int(visit))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidValue("start", data, f"a start request ({exc})") from None
        personal = data.get("personal")
        if personal is None:
            return request
        return replace(request, personal=Personalisation.from_dict(personal))


@dataclass
class LiveSession:
    """One session under way (or just ended) and what the live view has not yet drawn."""

    id: str
    request: StartRequest
    runner: SessionRunner
    device: Device
    recorder: SessionRecorder
    messages: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    summary: SessionSummary | None = None
    error: str = ""
    done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_frame_wall_s: float = 0.0
    _fresh_wall_s: float = -math.inf
    thread: threading.Thread | None = None
    lease: LeaseKeeper | None = None
    writer: RecordWriter | None = None
    on_closed: Callable[[], None] = lambda: None

    @property
    def record_id(self) -> int:
        return self.recorder.session_id

    def _push(self, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append((len(self.messages), name, data))

    def on_event(self, event: Event) -> None:
        self._push("event", _json_safe(event.to_dict()))

    def on_frame(self, frame: TelemetryFrame) -> None:
        now = time.monotonic()
        self._fresh_wall_s = now
        if now - self._last_frame_wall_s < 1.0 / TELEMETRY_PER_S:
            return
        self._last_frame_wall_s = now
        self._push("telemetry", _json_safe(frame.to_dict()))

    def messages_since(self, cursor: int) -> list[tuple[int, str, dict[str, Any]]]:
        with self._lock:
            return self.messages[cursor:]

    def state(self) -> dict[str, Any]:
        """What the console shows now: status, step, cue, countdowns, level and its limit."""
        now = self.runner.snapshot()
        run, rep = now.step, now.repetition
        step: dict[str, Any] | None = None
        if run is not None and not now.status.final:
            step = {
                "index": run.step.index,
                "position": run.position,
                "label": run.step.label,
                "zone": run.step.zone,
                "side": rep.side if rep else run.step.side,
                "remaining_s": now.step_remaining_s,
                "rep_remaining_s": now.repetition_remaining_s,
                "amplitude_ua": now.amplitude_ua,
                "cap_ua": run.amplitude_ua,
                "requested_ua": run.step.requested_ua,
                "cap_reason": now.cap_reason,
                "explanation": now.explanation,
            }
        fresh = not now.status.final and time.monotonic() - self._fresh_wall_s <= FRESH_S
        return {
            "status": str(now.status),
            "delivered_ua": now.delivered_ua if fresh else None,
            "delivered_peak_ua": now.delivered_peak_ua if fresh else None,
            "holding": now.holding if fresh and step is not None else "",
            "t_s": now.t_s,
            "progress": now.progress,
            "remaining_s": max(0.0, now.total_s - now.position_s),
            "steps_completed": now.steps_completed,
            "steps_total": now.steps_total,
            "level": now.output_level,
            "intensity": now.intensity,
            "step": step,
            "done": self.done,
            "record_id": self.record_id,
        }

    def set_intensity(self, level: float, operator: Operator) -> None:
        """Ask the runner for ``level`` (0-1 of each step's requested current) from its next
        tick, in ``operator``'s name. Raises `SessionEnded` once the session is over,
        `InvalidValue` outside 0-1."""
        if self.done or self.runner.status.final:
            raise SessionEnded(f"the session has ended ({self.runner.status})")
        self.runner.set_intensity(level, operator)

    def control(self, action: Action, operator: Operator) -> None:
        """Pause, resume or stop in ``operator``'s name; the event and the record say who."""
        if action == "stop":
            self.runner.stop(operator)
        elif action == "pause":
            self.runner.pause(operator)
        else:
            self.runner.resume(operator)

    def lease_lost(self) -> None:
        """The device lease lapsed: another process may own the device now, so stop."""
        self.error = "the device lease was lost; the session stopped"
        self.runner.stop(_LEASE_LOST)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the session's end (output zero, device free); whether
        it ended."""
        if self.thread is not None:
            self.thread.join(timeout_s)
        return self.done

    def _drain(self) -> None:
        """Wait for the writer to write (or journal) all the session emitted: the record is
        closed, and the device free, only after that."""
        if self.writer is not None:
            self.writer.close()
            self.error = self.error or self.writer.error

    def run(self, store: Store) -> None:
        """The thread's body: run to the end; the device is closed (output zero) whatever
        happens, and the record closed (``interrupted`` if the runner never ended it)."""
        try:
            self.summary = self.runner.run()
        except Exception as exc:  # reported to the console; the record says interrupted
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.device.close()
            self.on_closed()
            try:
                self._drain()
                self.recorder.close()
                if self.summary is not None:
                    self.recorder.keep_summary(self.summary)
            except StoreError as exc:  # closed elsewhere: its lease was taken over, or recovery
                self.error = self.error or str(exc)
            except SQLAlchemyError as exc:  # the store refused the end: recovery closes it
                self.error = self.error or f"the store refused the record's end: {exc}"
            finally:
                # the device is free only once its output is zero and its record closed
                if self.lease is not None:
                    self.lease.release()
                # the end message before the flag: whoever sees done has the end to send
                self._push("end", {"status": str(self.runner.status), "error": self.error})
                self.done = True


def start_protocol(db: Session, request: StartRequest) -> tuple[Protocol, dict[str, Any]]:
    """The protocol a start runs, looked up here (the request names it, never carries it), and
    the personalisation its record keeps: a stored or library protocol by name, or her home
    routine rebuilt with ``request.personal`` under the home profile
    (`microamp.store.home.personal_protocol`). Raises `InvalidValue`."""
    if request.personal is None:
        return load_named_protocol(db, request.protocol), {}
    return personal_protocol(db, client_id=request.client_id, name=request.protocol,
                             personal=request.personal)  # fmt: skip


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    def clean(value: Any) -> Any:
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [clean(v) for v in value]
        return value

    cleaned: dict[str, Any] = clean(data)
    return cleaned


class LiveSessions:
    """Every session this process runs; `shutdown` stops them all (output zero first).
    Simulated sessions run ``speed`` times faster than real time."""

    def __init__(
        self,
        *,
        store: Store,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.speed = speed
        self._sessions: dict[str, LiveSession] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        # each device's charge account when its last session closed it, and when (monotonic)
        self._accounts: dict[str, tuple[ChargeAccount, float]] = {}

    def get(self, live_id: str) -> LiveSession | None:
        with self._lock:
            return self._sessions.get(live_id)

    def recording(self) -> set[int]:
        """The records of sessions still under way (their recorders may still write)."""
        with self._lock:
            return {s.record_id for s in self._sessions.values() if not s.done}

    def snapshot(self) -> list[dict[str, Any]]:
        """Sessions still running, for the dashboard and the API."""
        with self._lock:
            sessions = list(self._sessions.values())
        return [
            {
                "id": s.id,
                "client_id": s.request.client_id,
                "client_name": s.request.client_name,
                "protocol": s.request.protocol,
                "state": str(s.runner.status),
                "record_id": s.record_id,
            }
            for s in sessions
            if not s.done
        ]

    def start(
        self,
        request: StartRequest,
        *,
        on: date,
        clock: Clock | None = None,
        live_id: str | None = None,
    ) -> LiveSession:
        """Open the device, build the runner with the client's hooks, start recording, and run
        it in a thread, as ``live_id`` (a new one by default). ``clock`` replaces the paced
        one (the demo data runs in simulated time). The device is leased first and opened only once the lease is held. Raises
        `InvalidValue` / `DeviceError` before anything runs, `DeviceBusy` (naming the session
        that holds it) when another session has the device."""
        with self.store.session() as db:
            protocol, personalisation = start_protocol(db, request)
            # at home she operates her own record only, whoever asks the station
            check_home_operator(db, operator_id=request.practitioner_id,
                                client_id=request.client_id)  # fmt: skip
        profile = get_profile(protocol.audience)
        planned_s = planned_seconds(plan_protocol(protocol, profile))
        options = replace(
            SessionOptions(),
            intensity=request.intensity,
            practitioner_max_ua=request.practitioner_max_ua,
        )
        prechecks = start_prechecks(self.store, client_id=request.client_id, on=on,
                                    protocol=protocol, profile=profile)  # fmt: skip
        clock = clock or session_clock(request.device_url, self.speed)
        lease = LeaseKeeper.acquire(self.store, request.device_url)
        try:
            device = open_device(request.device_url, clock=clock, profile=profile)
        except BaseException:
            lease.release()
            raise
        try:
            self._continue_charge(request.device_url, device)
        except BaseException:
            device.close()
            lease.release()
            raise
        try:
            runner = SessionRunner(
                protocol,
                device,
                profile=profile,
                options=options,
                prechecks=prechecks,
            )
            recorder = SessionRecorder.start(
                self.store,
                protocol_name=protocol.name,
                protocol_version=protocol.version,
                protocol_hash=protocol.content_hash(),
                device_url=request.device_url,
                device_capabilities=device.capabilities.to_dict(),
                client_id=request.client_id,
                practitioner_id=request.practitioner_id,
                appointment_id=request.appointment_id,
                journaled=True,
                personalisation=personalisation,
                planned_s=planned_s,
                # her day's time checked again with the record written, as one step: two
                # stations starting her at once never both pass
                admit=lambda db: claim_daily_time(
                    db, client_id=request.client_id, planned_s=planned_s, on=on
                ),  # fmt: skip
            )
            lease.attach(recorder.session_id)
        except BaseException:
            device.close()
            lease.release()
            raise
        live = LiveSession(
            live_id or secrets.token_hex(8), request, runner, device, recorder, lease=lease
        )
        lease.on_lost = live.lease_lost
        live.on_closed = lambda: self._keep_charge(request.device_url, device)
        lease.start()
        # the runner only queues: its timing never waits on the store
        live.writer = RecordWriter.attach(recorder, runner)
        runner.subscribe(live.on_event)
        runner.subscribe_telemetry(live.on_frame)
        live.thread = threading.Thread(
            target=live.run, args=(self.store,), name=f"session-{live.id}", daemon=True
        )
        with self._lock:
            self._forget_old()
            self._sessions[live.id] = live
        live.thread.start()
        return live

    def _keep_charge(self, device_url: str, device: Device) -> None:
        account = device.charge_account
        if account is not None:
            with self._lock:
                self._accounts[device_identity(device_url)] = (account, self._monotonic())

    def _continue_charge(self, device_url: str, device: Device) -> None:
        """The session rule of `ChargeAccount` on a device this process owns across sessions:
        the account its last session left counts on, idle for the time between, and starts
        afresh only once output has been zero for `MIN_REST_S`. Raises `InvalidValue` for a
        session on other charge terms (another profile) before that rest."""
        with self._lock:
            kept = self._accounts.pop(device_identity(device_url), None)
        if kept is None:
            return
        account, closed_at = kept
        # device time: a paced simulator lives ``speed`` times faster than the wall
        pace = self.speed if device_url.startswith("sim:") else 1.0
        account.idle(round(max(0.0, self._monotonic() - closed_at) * pace * account.sample_rate_hz))
        if account.rest_s >= MIN_REST_S:
            account.start_session()
        if device.carry_charge(account) or account.rest_s >= MIN_REST_S:
            return
        with self._lock:  # idle up to now: its rest counts on from here
            self._accounts[device_identity(device_url)] = (account, self._monotonic())
        raise InvalidValue("rest_s", round(account.rest_s, 1), f"a session under other charge "
                           f"limits starts on this device only after {MIN_REST_S:g} s without "
                           "output")  # fmt: skip

    def _forget_old(self) -> None:
        finished = [k for k, s in self._sessions.items() if s.done]
        for key in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            del self._sessions[key]

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop every session and wait for its thread (the device is zeroed by the runner)."""
        with self._lock:
            sessions = list(self._sessions.values())
        for live in sessions:
            live.runner.stop(_SHUTDOWN)
        for live in sessions:
            if live.thread is not None:
                live.thread.join(timeout_s)
