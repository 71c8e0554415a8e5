"""`SessionRunner`: a protocol turned into timed device commands, operator cues and events.

States: created -> prechecks -> running <-> paused -> completed | stopped | aborted, or
prechecks -> refused (no current at all). Time comes from the injected clock only: on a
`SimulatedClock` a 60-minute protocol runs as fast as the device can render it.

Each `tick` covers at most ``tick_s`` of session time: it takes the operator's requests (pause,
resume, stop, a new level), sets the level the output should reach by the end of that interval
(or renews the command in force), lets the clock run, then polls telemetry. A command lives ``expires_after_s`` (several ticks), so a stalled host lets the device
fall to zero on its own. On any fault, output is zeroed first and reported second.

No request waits for the next tick: on a clock that can be woken (`microamp.clock.Wakeable`:
the real and the paced clock) a Stop, a fault raised outside the runner, a pause, a resume or a
level ends the tick's wait at once, and the runner acts on it there (a Stop or a fault zeroes the
output). The contact precheck waits on the same clock, cut short by a Stop or a fault only. A
`SimulatedClock` never waits, so a session in simulated time runs exactly as before whatever is
requested.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from typing import Any

from microamp.clock import Clock, Wakeable
from microamp.devices.base import Device, TelemetryFrame
from microamp.devices.supervisor import Supervisor
from microamp.errors import DeviceError, InvalidValue
from microamp.protocols.schema import PlannedStep, Protocol
from microamp.protocols.validate import plan_protocol
from microamp.safety.faults import Fault
from microamp.safety.limits import LimitProfile
from microamp.session import events as ev
from microamp.session.controls import Action, Controls, Operator, by, operator_dict
from microamp.session.level import checked_level
from microamp.session.options import SessionOptions
from microamp.session.output import Output
from microamp.session.prechecks import STOPPED, CheckResult, PrecheckContext, Prechecks
from microamp.session.readout import Readout, delivered, holding_note
from microamp.session.schedule import Repetition, StepRun
from microamp.session.setup import set_up
from microamp.session.summary import SessionStatus, SessionSummary, step_record
from microamp.session.watch import Watch

__all__ = ["EventSubscriber", "SessionOptions", "SessionRunner", "TelemetrySubscriber"]

EventSubscriber = Callable[[ev.Event], None]
TelemetrySubscriber = Callable[[TelemetryFrame], None]
_EPS_S = 1e-9


class SessionRunner:
    """Run ``protocol`` on ``device`` under ``profile`` (see the module docstring).

    The device is driven through a `Supervisor` (telemetry monitor, adaptive intensity, command
    renewal); time is the device's clock. Raises `InvalidValues` at construction if the protocol
    breaks the profile. `run` blocks until the session ends; `pause`, `resume`, `stop` and
    `set_intensity` may be called from another thread (or from a subscriber) and take effect at
    once (they end the tick's wait), and `snapshot` (with `current` and `repetition`) is safe to
    read from any thread.
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
        self._watch = Watch(self.supervisor, self.telemetry_subscribers)
        self.ledger = self._watch.ledger
        self.faults: list[Fault] = self._watch.faults
        self.position_s = 0.0
        self._controls = Controls()
        self._output = Output(
            self.supervisor, profile, self.options.intensity, self.options.expires_after_s
        )
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
        self._completed = 0
        self._skipped = 0
        self._woken = False  # the last wait ended on a Stop or a fault
        self._wait_left_s = 0.0
        self._heard = ""
        self._precheck_log: list[dict[str, Any]] = []
        self._readout = Readout(self.status, total_s=self.total_s, steps_total=len(self.planned),
                                intensity=self.intensity)  # fmt: skip

    # -- control (any thread) -------------------------------------------------------------------

    def subscribe(self, subscriber: EventSubscriber) -> None:
        self.subscribers.append(subscriber)

    def subscribe_telemetry(self, subscriber: TelemetrySubscriber) -> None:
        self.telemetry_subscribers.append(subscriber)

    def pause(self, operator: Operator | None = None) -> None:
        """Ramp the output down and hold at zero until `resume`; the event names ``operator``."""
        self._controls.request("pause", operator)

    def resume(self, operator: Operator | None = None) -> None:
        """Ramp back up and carry on where the session paused."""
        self._controls.request("resume", operator)

    def stop(self, operator: Operator | None = None) -> None:
        """End the session now: output to zero at once (during the prechecks too), status
        stopped, in any state."""
        self._controls.request("stop", operator)

    def fault(self, fault: Fault) -> None:
        """A fault found outside the runner (its recorder fell behind): output to zero at once
        (during the prechecks too, which it ends), the fault reported, status aborted."""
        self._controls.request_fault(fault)

    def set_intensity(self, level: float, operator: Operator | None = None) -> None:
        """Set the session's level, 0-1 of each step's requested current, at once.

        The level goes through every limit of the step in force (and of each later step), so
        output never rises above the step's cap, and the device slews to it; while paused it
        takes effect on resume. Emits ``intensity_changed``. Raises `InvalidValue` (field
        ``level``) for anything but a number from 0 to 1.
        """
        self._controls.request_level(checked_level(level), operator)

    # -- what a live view reads -----------------------------------------------------------------

    def snapshot(self) -> Readout:
        """The session as of the last tick: one immutable value, safe to read from any thread."""
        return self._readout

    @property
    def t_s(self) -> float:
        """Session time, seconds since `start` (frozen once the session has ended)."""
        end = self._end_t_s
        return (self.clock.now() if end is None else end) - self._t0_s

    @property
    def current(self) -> StepRun | None:
        """The step as of the last tick. Read `snapshot` for a step and repetition that belong
        together: two separate reads may straddle a tick."""
        return self._readout.step

    @property
    def repetition(self) -> Repetition | None:
        """The repetition as of the last tick (see `snapshot`)."""
        return self._readout.repetition

    @property
    def intensity(self) -> float:
        """The session's level in force (0-1 of each step's requested current)."""
        return self._output.intensity

    @property
    def level(self) -> float:
        """The intensity commanded now (0-1 of the step's capped waveform, ramps included)."""
        return self._output.level

    @property
    def last_frame(self) -> TelemetryFrame | None:
        return self._watch.last_frame

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
        self._emit(
            ev.SessionStarted(
                t_s=0.0,
                protocol=self.protocol.name,
                protocol_version=self.protocol.version,
                content_hash=self.protocol.content_hash(),
                profile=self.profile.name,
                device=self.device.capabilities.to_dict(),
                steps_total=len(self.planned),
                planned_duration_s=sum(s.duration_s for s in self.planned),
                intensity=self.options.intensity,
                profile_hash=self.profile.content_hash,
            )
        )
        context = PrecheckContext(self.protocol, self.planned, self.profile, self.device,
                                  self.supervisor, self.clock, self._controls.urgent_pending,
                                  self._precheck_wait)  # fmt: skip
        setup = set_up(context, self.prechecks, self.options, self._checked, self._zero)
        self._precheck_log = setup.log
        for step, reason in setup.skipped:
            self._skipped += 1
            self._emit(ev.StepSkipped(t_s=self.t_s, step=step.index, muscle=step.muscle,
                                      zone=step.zone, reason=reason))  # fmt: skip
        stop = self._controls.stop_pending()
        if stop is not None:
            self._controls.take()
            self._heard = self._controls.heard(self._woken)
            self._finish(SessionStatus.STOPPED, f"{STOPPED} {by(stop[1])}", stop[1])
            return False
        # a fault that cut the prechecks short is the reason they ended, not their refusal
        faults = self._controls.take_faults()
        if faults:
            self._heard = self._controls.heard(self._woken)
            self._abort(faults)
            return False
        if setup.refusal:
            return self._refuse(setup.refusal)
        self.runs, self._output.limits = setup.runs, setup.limits
        self.status = SessionStatus.RUNNING
        self._mark_s = self.clock.now()
        self._publish()
        return True

    def _checked(self, name: str, result: CheckResult) -> None:
        self._emit(ev.PrecheckDone(t_s=self.t_s, check=name, ok=result.ok, reasons=result.reasons,
                                   avoid_zones=tuple(sorted(result.avoid_zones))))  # fmt: skip

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
            faults = self._controls.take_faults()
            if faults:
                self._heard = self._controls.heard(self._woken)
                self._abort(faults)
                return
            actions, level = self._controls.take()
            for action, operator in actions:
                self._handle(action, operator)
                if self.status.final:
                    return
            if level is not None:
                self._change_intensity(*level)
            if self.status is SessionStatus.PAUSED:
                self._tick_paused()
            else:
                self._tick_running()
        except (DeviceError, InvalidValue) as exc:
            self._abort_on_error(exc)
        finally:
            self._publish()

    def _handle(self, action: Action, operator: Operator | None) -> None:
        run = self._run()
        step = run.step.index if run else None
        who = operator_dict(operator)
        if action == "stop":
            self._heard = self._controls.heard(self._woken)
            self._finish(SessionStatus.STOPPED, f"stopped {by(operator)}", operator)
        elif action == "pause" and self.status is SessionStatus.RUNNING:
            self.status = SessionStatus.PAUSED
            self._paused_at_s = self.t_s
            self._emit(ev.Paused(t_s=self.t_s, step=step, reason=f"paused {by(operator)}",
                                 operator=who))  # fmt: skip
        elif action == "resume" and self.status is SessionStatus.PAUSED:
            self.status = SessionStatus.RUNNING
            self._resume_factor = 0.0
            paused_s = self.t_s - self._paused_at_s
            self._emit(ev.Resumed(t_s=self.t_s, step=step, paused_s=paused_s, operator=who))

    def _change_intensity(self, level: float, operator: Operator | None) -> None:
        """The operator's new level: through the step's limits now (while paused, it waits for
        the resume ramp); each later step puts it through its own limits when it opens."""
        self._output.intensity = level
        run = self._run()
        if run is not None:
            at = self._output.level_on(run)
            paused = self.status is SessionStatus.PAUSED
            self._emit(at.changed(self.t_s, on_resume=paused, operator=operator_dict(operator)))

    def _run(self) -> StepRun | None:
        """The step in force, for the runner's own thread (others read `snapshot`)."""
        return self.runs[self._run_i] if self._run_i < len(self.runs) else None

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
        self._output.drive(run, rep.level(end_s) * self._resume_factor)
        slept_s = self._wait(dt_s)
        # on a real clock time also passes while polling and drawing: protocol time follows the
        # clock (never past the repetition), so a step lasts what it says
        elapsed_s = max(slept_s, self._mark_time())
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
        step, at = run.step, self._output.level_on(run)
        self._step_open = True
        self._watch.open_step()
        self._emit(
            ev.StepStarted(
                t_s=self.t_s, step=step.index, position=run.position, muscle=step.muscle,
                label=step.label, zone=step.zone, side=step.side, technique=step.technique,
                cue=step.cue, duration_s=run.duration_s, repetitions=step.repetitions,
                requested_ua=step.requested_ua, amplitude_ua=run.amplitude_ua,
                intensity=self.intensity, waveform=run.waveform.to_dict(),
                constraint=run.constraint.to_dict(), effective_ua=at.amplitude_ua,
                cap_reason=at.reason,
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
        if self._rep_i + 1 < len(run.repetitions):
            self._rep_i += 1
            return
        self._completed += 1
        self._emit(ev.StepCompleted(t_s=self.t_s, step=run.step.index, zone=run.step.zone,
                                    charge_uc=self._watch.step_charge_uc,
                                    stimulation_s=self._watch.step_stim_s))  # fmt: skip
        self._step_open = False
        self._rep_i = 0
        self._run_i += 1
        if self._run_i == len(self.runs):
            self._finish(SessionStatus.COMPLETED, "every step was completed")

    def _wait(self, seconds: float) -> float:
        """Let ``seconds`` of clock time pass, or less when a request wakes the wait; the
        seconds that passed."""
        return self._wait_on(seconds, self._controls.wake)

    def _precheck_wait(self, seconds: float) -> float:
        """`_wait` for the prechecks: only a Stop or a fault ends it early (a pause or a level
        waits for the first tick, and must not cut the contact check's test current short)."""
        return self._wait_on(seconds, self._controls.urgent)

    def _wait_on(self, seconds: float, wake: threading.Event) -> float:
        clock, controls = self.clock, self._controls
        controls.waiting(True)
        if isinstance(clock, Wakeable):
            slept_s = clock.sleep_or_wake(seconds, wake)
            self._woken = controls.waiting(False) and wake.is_set()
        else:
            clock.sleep(seconds)
            slept_s = seconds
            controls.waiting(False)
            self._woken = False
        self._wait_left_s = max(0.0, seconds - slept_s) if self._woken else 0.0
        return slept_s

    def _mark_time(self) -> float:
        """Seconds of clock time since the previous mark."""
        now = self.clock.now()
        elapsed, self._mark_s = now - self._mark_s, now
        return elapsed

    # -- paused ---------------------------------------------------------------------------------

    def _tick_paused(self) -> None:
        run = self._run()
        tick_s = self.options.tick_s
        was_on = self.level > 0.0
        if run is not None and self._output.command is not None and was_on:
            self._output.ramp_down(run, tick_s, run.repetitions[self._rep_i].ramp_s)
        elif self._output.command is not None:
            self._zero()
        self._wait(tick_s)
        self._mark_time()
        self._collect(run.step.zone if run is not None and was_on else None)

    # -- telemetry and faults -------------------------------------------------------------------

    def _collect(self, zone: str | None) -> None:
        run = self._run()
        adjusted, faults = self._watch.collect(zone, run.step.index if run else None, self.t_s)
        for event in adjusted:
            self._emit(event)
        if faults:
            self._abort(faults)

    def _abort_on_error(self, exc: Exception) -> None:
        """A command refused or a driver failure: zero first, then report what the device saw."""
        self._zero()
        self._abort(self._watch.faults_after(exc, self.clock.now()))

    def _abort(self, faults: list[Fault]) -> None:
        """Zero output first (the supervisor already has), then report every fault."""
        self._zero()
        run = self._run()
        step = run.step.index if run else None
        self.faults.extend(faults)
        for fault in faults:
            self._emit(ev.FaultRaised(t_s=self.t_s, step=step, code=str(fault.code),
                                      message=fault.message, fault=fault.to_dict()))  # fmt: skip
        self._finish(SessionStatus.ABORTED, faults[0].message)

    def _zero(self) -> None:
        self._output.zero()

    def _finish(self, status: SessionStatus, reason: str, operator: Operator | None = None) -> None:
        self._zero()
        self.status = status
        self._reason = reason
        self._end_t_s = self.clock.now()
        self._publish()  # final before ``ended`` goes out, for a subscriber that reads it
        self._emit(
            ev.Ended(
                t_s=self.t_s, status=str(status), reason=reason,
                steps_completed=self._completed, steps_total=len(self.planned),
                delivered_charge_uc=self.ledger.total_charge_uc, duration_s=self.t_s,
                operator=operator_dict(operator), stop_heard=self._heard,
                wait_left_s=self._wait_left_s if self._heard == "woke" else 0.0,
            )
        )  # fmt: skip

    def _emit(self, event: ev.Event) -> None:
        self.events.append(event)
        for subscriber in self.subscribers:
            subscriber(event)

    def _publish(self) -> None:
        """Swap in this tick's readout: one reference, so a reader sees one tick whole."""
        run = self._run()
        at = self._output.level_on(run) if run else None
        frame = self._watch.last_frame
        chosen = self.supervisor.chosen
        adapted = chosen is not None and self.supervisor.output_intensity < chosen.intensity
        steady = at is not None and self.level >= at.fraction - 1e-6
        self._readout = Readout(
            status=self.status, t_s=self.t_s, position_s=self.position_s, total_s=self.total_s,
            steps_completed=self._completed, steps_total=len(self.runs) or len(self.planned),
            step=run, repetition=run.repetitions[self._rep_i] if run else None,
            intensity=self.intensity, output_level=self.level,
            amplitude_ua=at.amplitude_ua if at else None, cap_reason=at.reason if at else "",
            explanation=at.constraint.explain() if at else "",
            delivered_ua=delivered(frame.delivered_ua) if frame else None,
            delivered_peak_ua=delivered(frame.peak_ua) if frame else None,
            frame_t_s=frame.t_s if frame else None,
            holding=holding_note(at.amplitude_ua if at else None, frame, adapted, steady),
        )  # fmt: skip

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
            profile_hash=self.profile.content_hash,
        )
