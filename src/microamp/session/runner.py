"""`SessionRunner`: a protocol turned into timed device commands, operator cues and events.

States: created -> prechecks -> running <-> paused -> completed | stopped | aborted, or
prechecks -> refused (no current at all). Time comes from the injected clock only: on a
`SimulatedClock` a 60-minute protocol runs as fast as the device can render it.

Each `tick` covers at most ``tick_s`` of session time: it sets the level the output should reach
by the end of that interval (or renews the command in force), lets the clock run, then polls
telemetry. A command lives ``expires_after_s`` (several ticks), so a stalled host lets the device
fall to zero on its own. On any fault, output is zeroed first and reported second.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from typing import Any

from microamp.clock import Clock
from microamp.devices.base import Command, Device, TelemetryFrame
from microamp.devices.supervisor import Supervisor
from microamp.errors import DeviceError, InvalidValue
from microamp.protocols.schema import PlannedStep, Protocol
from microamp.protocols.validate import plan_protocol
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import LimitProfile
from microamp.session import events as ev
from microamp.session.dose import DoseLedger
from microamp.session.options import SessionOptions
from microamp.session.prechecks import CheckResult, PrecheckContext, Prechecks, run_prechecks
from microamp.session.schedule import Limits, Repetition, StepRun, build_schedule
from microamp.session.summary import SessionStatus, SessionSummary, step_record

__all__ = ["EventSubscriber", "SessionOptions", "SessionRunner", "TelemetrySubscriber"]

EventSubscriber = Callable[[ev.Event], None]
TelemetrySubscriber = Callable[[TelemetryFrame], None]
_EPS_S = 1e-9


class SessionRunner:
    """Run ``protocol`` on ``device`` under ``profile`` (see the module docstring).

    The device is driven through a `Supervisor` (telemetry monitor, adaptive intensity, command
    renewal); time is the device's clock. Raises `InvalidValues` at construction if the protocol
    breaks the profile. `run` blocks until
    the session ends; `pause`, `resume` and `stop` may be called from another thread (or from a
    subscriber) and take effect at the next tick.
    """

    def __init__(
        self,
        protocol: Protocol,
        device: Device,
        *,
        profile: LimitProfile,
        clock: Clock | None = None,
        options: SessionOptions | None = None,
        supervisor: Supervisor | None = None,
        prechecks: Prechecks | None = None,
        subscribers: Iterable[EventSubscriber] = (),
        telemetry_subscribers: Iterable[TelemetrySubscriber] = (),
    ) -> None:
        self.protocol = protocol
        if clock is not None and clock is not device.clock:
            raise InvalidValue("clock", type(clock).__name__, "must be the device's own clock")
        self.device = device
        self.profile = profile
        self.clock = device.clock
        self.options = options or SessionOptions()
        self.supervisor = supervisor or Supervisor(device, profile, adapt=self.options.adaptive)
        self.prechecks = prechecks if prechecks is not None else Prechecks()
        self.planned: tuple[PlannedStep, ...] = tuple(plan_protocol(protocol, profile))
        self.subscribers: list[EventSubscriber] = list(subscribers)
        self.telemetry_subscribers: list[TelemetrySubscriber] = list(telemetry_subscribers)
        self.status = SessionStatus.CREATED
        self.runs: list[StepRun] = []
        self.events: list[ev.Event] = []
        self.ledger = DoseLedger()
        self.faults: list[Fault] = []
        self.last_frame: TelemetryFrame | None = None
        self.position_s = 0.0
        self.level = 0.0
        self._lock = threading.Lock()
        self._requests: list[str] = []
        self._t0_s = 0.0
        self._mark_s = 0.0
        self._end_t_s: float | None = None
        self._reason = ""
        self._run_i = 0
        self._rep_i = 0
        self._step_open = False
        self._rep_open = False
        self._next_beep_s = math.inf
        self._resume_factor = 1.0
        self._paused_at_s = 0.0
        self._command: Command | None = None
        self._completed = 0
        self._skipped = 0
        self._step_charge_uc = 0.0
        self._step_stim_s = 0.0
        self._precheck_log: list[dict[str, Any]] = []

    # -- control (any thread) -------------------------------------------------------------------

    def subscribe(self, subscriber: EventSubscriber) -> None:
        self.subscribers.append(subscriber)

    def subscribe_telemetry(self, subscriber: TelemetrySubscriber) -> None:
        self.telemetry_subscribers.append(subscriber)

    def pause(self) -> None:
        """Ramp the output down and hold at zero until `resume`."""
        self._request("pause")

    def resume(self) -> None:
        """Ramp back up and carry on where the session paused."""
        self._request("resume")

    def stop(self) -> None:
        """End the session now: output to zero at once, status stopped."""
        self._request("stop")

    def _request(self, what: str) -> None:
        with self._lock:
            self._requests.append(what)

    # -- what a live view reads -----------------------------------------------------------------

    @property
    def t_s(self) -> float:
        """Session time, seconds since `start` (frozen once the session has ended)."""
        end = self._end_t_s
        return (self.clock.now() if end is None else end) - self._t0_s

    @property
    def current(self) -> StepRun | None:
        return self.runs[self._run_i] if self._run_i < len(self.runs) else None

    @property
    def repetition(self) -> Repetition | None:
        run = self.current
        return run.repetitions[self._rep_i] if run is not None else None

    @property
    def total_s(self) -> float:
        """Planned protocol time of the steps that run (pauses excluded)."""
        return self.runs[-1].end_s if self.runs else sum(s.duration_s for s in self.planned)

    @property
    def steps_completed(self) -> int:
        return self._completed

    # -- the session ----------------------------------------------------------------------------

    def run(self) -> SessionSummary:
        """Prechecks, then every step until the end; output is zero when this returns or raises."""
        try:
            if self.status is SessionStatus.CREATED:
                self.start()
            while not self.status.final:
                self.tick()
        except BaseException:
            self._zero()
            raise
        return self.summary()

    def start(self) -> bool:
        """Run the prechecks and build the schedule; False (status refused) if refused."""
        self._t0_s = self.clock.now()
        self.status = SessionStatus.PRECHECKS
        caps = self.device.capabilities
        self._emit(
            ev.SessionStarted(
                t_s=0.0,
                protocol=self.protocol.name,
                protocol_version=self.protocol.version,
                content_hash=self.protocol.content_hash(),
                profile=self.profile.name,
                device=caps.to_dict(),
                steps_total=len(self.planned),
                planned_duration_s=sum(s.duration_s for s in self.planned),
                intensity=self.options.intensity,
            )
        )
        context = PrecheckContext(
            self.protocol, self.planned, self.profile, self.device, self.supervisor, self.clock
        )
        outcome = run_prechecks(self.prechecks, context, self._checked, self._zero)
        self._precheck_log = outcome.log
        if not outcome.ok:
            return self._refuse(outcome.reasons)
        avoid = set(self.options.avoid_zones) | outcome.avoid_zones
        client_max_ua = min(
            self.options.client_max_ua or math.inf, outcome.client_max_ua or math.inf
        )
        kept = self._drop_avoided(avoid)
        if not kept:
            return self._refuse([f"every step is in a zone to avoid ({', '.join(sorted(avoid))})"])
        limits = Limits(
            hardware_max_ua=caps.max_current_ua,
            protocol_max_ua=self.protocol.max_amplitude_ua,
            client_max_ua=None if math.isinf(client_max_ua) else client_max_ua,
            practitioner_max_ua=self.options.practitioner_max_ua,
        )
        self.runs = build_schedule(kept, self.profile, limits, intensity=self.options.intensity)
        self.status = SessionStatus.RUNNING
        self._mark_s = self.clock.now()
        return True

    def _checked(self, name: str, result: CheckResult) -> None:
        self._emit(ev.PrecheckDone(t_s=self.t_s, check=name, ok=result.ok, reasons=result.reasons))

    def _drop_avoided(self, avoid: set[str]) -> list[PlannedStep]:
        kept = []
        for step in self.planned:
            if step.zone in avoid:
                self._skipped += 1
                reason = f"the {step.zone} zone is to be avoided for this client"
                self._emit(
                    ev.StepSkipped(
                        t_s=self.t_s,
                        step=step.index,
                        muscle=step.muscle,
                        zone=step.zone,
                        reason=reason,
                    )
                )
            else:
                kept.append(step)
        return kept

    def _refuse(self, reasons: Iterable[str]) -> bool:
        self._zero()
        reasons = tuple(reasons)
        self._emit(ev.Refused(t_s=self.t_s, reasons=reasons))
        self._finish(SessionStatus.REFUSED, "; ".join(reasons))
        return False

    def tick(self) -> None:
        """Advance the session by one tick (nothing once it has ended)."""
        if self.status.final or self.status is SessionStatus.CREATED:
            return
        try:
            for request in self._take_requests():
                self._handle(request)
                if self.status.final:
                    return
            if self.status is SessionStatus.PAUSED:
                self._tick_paused()
            else:
                self._tick_running()
        except (DeviceError, InvalidValue) as exc:
            self._abort_on_error(exc)

    def _take_requests(self) -> list[str]:
        with self._lock:
            requests, self._requests = self._requests, []
        return requests

    def _handle(self, request: str) -> None:
        step = self.current.step.index if self.current else None
        if request == "stop":
            self._finish(SessionStatus.STOPPED, "stopped by the operator")
        elif request == "pause" and self.status is SessionStatus.RUNNING:
            self.status = SessionStatus.PAUSED
            self._paused_at_s = self.t_s
            self._emit(ev.Paused(t_s=self.t_s, step=step, reason="paused by the operator"))
        elif request == "resume" and self.status is SessionStatus.PAUSED:
            self.status = SessionStatus.RUNNING
            self._resume_factor = 0.0
            paused_s = self.t_s - self._paused_at_s
            self._emit(ev.Resumed(t_s=self.t_s, step=step, paused_s=paused_s))

    # -- running --------------------------------------------------------------------------------

    def _tick_running(self) -> None:
        run, rep = self.runs[self._run_i], self.runs[self._run_i].repetitions[self._rep_i]
        if not self._step_open:
            self._open_step(run)
        if not self._rep_open:
            self._open_repetition(run, rep)
        end_s = min(self.position_s + self.options.tick_s, rep.end_s, self._next_beep_s)
        dt_s = end_s - self.position_s
        self._resume_factor = min(1.0, self._resume_factor + dt_s / max(rep.ramp_s, dt_s))
        was_on = self.level > 0.0
        self._drive(run, rep.level(end_s) * self.options.intensity * self._resume_factor)
        self.clock.sleep(dt_s)
        # on a real clock time also passes while polling and drawing: protocol time follows the
        # clock (never past the repetition), so a step lasts what it says
        elapsed_s = max(dt_s, self._mark_time())
        self.position_s = min(self.position_s + elapsed_s, rep.end_s)
        self._collect(run.step.zone if was_on or self.level > 0.0 else None)
        if self.status.final:
            return
        if self.position_s >= rep.end_s - _EPS_S:
            self._close_repetition(run)
        elif self.position_s >= self._next_beep_s - _EPS_S:
            self._next_beep_s += run.step.cue_interval_s
            self._emit(ev.Cue(t_s=self.t_s, step=run.step.index, side=rep.side,
                              repetition=rep.number, text="Move on", reason="move"))  # fmt: skip

    def _open_step(self, run: StepRun) -> None:
        step = run.step
        self._step_open = True
        self._step_charge_uc = 0.0
        self._step_stim_s = 0.0
        self._emit(
            ev.StepStarted(
                t_s=self.t_s, step=step.index, position=run.position, muscle=step.muscle,
                label=step.label, zone=step.zone, side=step.side, technique=step.technique,
                cue=step.cue, duration_s=run.duration_s, repetitions=step.repetitions,
                requested_ua=step.requested_ua, amplitude_ua=run.amplitude_ua,
                intensity=self.options.intensity, waveform=run.waveform.to_dict(),
                constraint=run.constraint.to_dict(),
            )
        )  # fmt: skip

    def _open_repetition(self, run: StepRun, rep: Repetition) -> None:
        self._rep_open = True
        self._next_beep_s = rep.start_s + run.step.cue_interval_s
        first = rep.number == 1
        where = "" if rep.side == "midline" else f"{rep.side.capitalize()} side, "
        text = f"{where}{rep.number} of {run.step.repetitions}: {run.step.cue}"
        self._emit(ev.Cue(t_s=self.t_s, step=run.step.index, side=rep.side,
                          repetition=rep.number, text=text,
                          reason="side" if first else "repetition"))  # fmt: skip

    def _close_repetition(self, run: StepRun) -> None:
        # output off between repetitions: the probes move with no current, and each repetition
        # starts afresh (polarity from its first phase, the device's charge account cleared)
        self._zero()
        self._rep_open = False
        self._next_beep_s = math.inf
        self._rep_i += 1
        if self._rep_i < len(run.repetitions):
            return
        self._completed += 1
        self._emit(ev.StepCompleted(t_s=self.t_s, step=run.step.index, zone=run.step.zone,
                                    charge_uc=self._step_charge_uc,
                                    stimulation_s=self._step_stim_s))  # fmt: skip
        self._step_open = False
        self._rep_i = 0
        self._run_i += 1
        if self._run_i == len(self.runs):
            self._finish(SessionStatus.COMPLETED, "every step was completed")

    def _drive(self, run: StepRun, level: float) -> None:
        """Command ``level`` (0-1) of the step's capped amplitude; the supervisor renews it."""
        level = min(1.0, max(0.0, level))
        last = self._command
        if (
            last is not None
            and last.waveform is run.waveform
            and abs(last.intensity - level) < 1e-9
        ):
            return
        command = Command(run.waveform, level, self.options.expires_after_s, zone=run.step.zone)
        self.supervisor.apply(command)
        self._command = command
        self.level = level

    def _mark_time(self) -> float:
        """Seconds of clock time since the previous mark."""
        now = self.clock.now()
        elapsed, self._mark_s = now - self._mark_s, now
        return elapsed

    # -- paused ---------------------------------------------------------------------------------

    def _tick_paused(self) -> None:
        run = self.current
        tick_s = self.options.tick_s
        was_on = self.level > 0.0
        if run is not None and self._command is not None and was_on:
            rep = run.repetitions[self._rep_i]
            step_down = tick_s * self.options.intensity / max(rep.ramp_s, tick_s)
            self._drive(run, max(0.0, self.level - step_down))
        elif self._command is not None:
            self._zero()
        self.clock.sleep(tick_s)
        self._mark_time()
        self._collect(run.step.zone if run is not None and was_on else None)

    # -- telemetry and faults -------------------------------------------------------------------

    def _collect(self, zone: str | None) -> None:
        update = self.supervisor.service()
        for frame in update.frames:
            charge_uc = self.ledger.add(zone, frame)
            self._step_charge_uc += charge_uc
            if zone is not None:
                self._step_stim_s += frame.window_s
            for subscriber in self.telemetry_subscribers:
                subscriber(frame)
        if update.frames:
            self.last_frame = update.frames[-1]
        step = self.current.step.index if self.current else None
        for adjustment in update.adjustments:
            self._emit(ev.IntensityAdjusted(t_s=self.t_s, step=step, reason=adjustment.reason,
                                            adjustment=adjustment.to_dict()))  # fmt: skip
        if update.faults:
            self._abort(update.faults)

    def _abort_on_error(self, exc: Exception) -> None:
        """A command refused or a driver failure: zero first, then report what the device saw."""
        self._zero()
        faults: list[Fault] = []
        try:
            faults = self.supervisor.service().faults
        except DeviceError:
            pass  # the link is gone: the error itself is the report
        self._abort(faults or [Fault.of(FaultCode.DRIVER_ERROR, detected_t_s=self.clock.now(),
                                        detail={"error": str(exc)})])  # fmt: skip

    def _abort(self, faults: list[Fault]) -> None:
        """Zero output first (the supervisor already has), then report every fault."""
        self._zero()
        step = self.current.step.index if self.current else None
        for fault in faults:
            self.faults.append(fault)
            self._emit(ev.FaultRaised(t_s=self.t_s, step=step, code=str(fault.code),
                                      message=fault.message, fault=fault.to_dict()))  # fmt: skip
        self._finish(SessionStatus.ABORTED, faults[0].message)

    def _zero(self) -> None:
        """Output to zero now, whatever state the device is in."""
        self._command = None
        self.level = 0.0
        try:
            self.supervisor.stop()
        except DeviceError:
            pass  # stop zeroes before it can fail; a dead link has no output to zero

    def _finish(self, status: SessionStatus, reason: str) -> None:
        self._zero()
        self.status = status
        self._reason = reason
        self._emit(
            ev.Ended(
                t_s=self.t_s, status=str(status), reason=reason,
                steps_completed=self._completed, steps_total=len(self.planned),
                delivered_charge_uc=self.ledger.total_charge_uc, duration_s=self.t_s,
            )
        )  # fmt: skip
        self._end_t_s = self.clock.now()

    def _emit(self, event: ev.Event) -> None:
        self.events.append(event)
        for subscriber in self.subscribers:
            subscriber(event)

    # -- the outcome ----------------------------------------------------------------------------

    def summary(self) -> SessionSummary:
        dose = self.ledger.by_zone()
        return SessionSummary(
            status=self.status,
            reason=self._reason,
            protocol=self.protocol.name,
            protocol_version=self.protocol.version,
            content_hash=self.protocol.content_hash(),
            profile=self.profile.name,
            duration_s=self.t_s,
            stimulation_s=sum(d.stimulation_s for d in dose.values()),
            steps_completed=self._completed,
            steps_total=len(self.planned),
            steps_skipped=self._skipped,
            delivered_charge_uc=self.ledger.total_charge_uc,
            dose_by_zone=dose,
            faults=[f.to_dict() for f in self.faults],
            events_count=len(self.events),
            steps=[step_record(run, run.position < self._completed) for run in self.runs],
            prechecks=list(self._precheck_log),
        )
