"""`Watch`: the supervisor's report at each tick, turned into the session's accounts and events.

Every frame adds its charge to the dose ledger (by zone) and to the step's own account, then goes
to the telemetry subscribers; every adjustment adaptive intensity made becomes an event; every
fault goes back to the runner, which has output zeroed and reports it.
"""

from __future__ import annotations

from collections.abc import Callable

from microamp.devices.base import TelemetryFrame
from microamp.devices.supervisor import Supervisor
from microamp.errors import DeviceError
from microamp.safety.faults import Fault, FaultCode
from microamp.session.dose import DoseLedger
from microamp.session.events import IntensityAdjusted

__all__ = ["Watch"]


class Watch:
    """The dose so far (``ledger``), the step's charge (µC) and stimulation time (s), every
    fault seen, and the last frame."""

    def __init__(
        self, supervisor: Supervisor, subscribers: list[Callable[[TelemetryFrame], None]]
    ) -> None:
        self.supervisor = supervisor
        self.subscribers = subscribers
        self.ledger = DoseLedger()
        self.faults: list[Fault] = []
        self.last_frame: TelemetryFrame | None = None
        self.step_charge_uc = 0.0
        self.step_stim_s = 0.0

    def open_step(self) -> None:
        self.step_charge_uc = 0.0
        self.step_stim_s = 0.0

    def collect(
        self, zone: str | None, step: int | None, t_s: float
    ) -> tuple[list[IntensityAdjusted], list[Fault]]:
        """Service the supervisor; charge counts toward ``zone`` (None: output was off)."""
        update = self.supervisor.service()
        for frame in update.frames:
            self.step_charge_uc += self.ledger.add(zone, frame)
            if zone is not None:
                self.step_stim_s += frame.window_s
            for subscriber in self.subscribers:
                subscriber(frame)
        if update.frames:
            self.last_frame = update.frames[-1]
        adjusted = [
            IntensityAdjusted(t_s=t_s, step=step, reason=a.reason, adjustment=a.to_dict())
            for a in update.adjustments
        ]
        return adjusted, update.faults

    def faults_after(self, exc: Exception, now_s: float) -> list[Fault]:
        """What the device saw when a command was refused or the driver failed (output is
        already zero); the error itself when the device cannot say."""
        faults: list[Fault] = []
        try:
            faults = self.supervisor.service().faults
        except DeviceError:
            pass  # the link is gone: the error itself is the report
        return faults or [
            Fault.of(FaultCode.DRIVER_ERROR, detected_t_s=now_s, detail={"error": str(exc)})
        ]
