"""`Supervisor`: the runtime watch over one device, called by a session runner every tick.

    from microamp.devices import Command, Supervisor, open_device

    with open_device("sim://?load=gel", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(waveform, intensity=0.8, zone="cheeks"))
        while supervisor.running:
            clock.sleep(0.01)
            update = supervisor.service()   # poll, judge, adapt, renew the command
            for fault in update.faults:     # output is already zero when you see one
                ...
        supervisor.stop()

`service` does, in order: read new telemetry from the device; collect the faults the device
detected itself (it has already zeroed its output); judge the frames with the
`TelemetryMonitor` (contact lost, compliance, current deviation, silence); on any fault, stop
the device first and only then report; otherwise let `AdaptiveIntensity` lower (or slowly
restore) the intensity within the chosen level, and renew the command before it expires.

Call `service` at least every ``heartbeat_s`` (0.1 s or a quarter of the command's expiry,
whichever is shorter): a supervisor that is not serviced lets the command expire, and the
device goes to zero on its own. `apply` raises `InvalidValue` when the device refuses a command
(nothing changes) and `DeviceError` when the device fails (output is zeroed, the fault is
reported by the next `service`). `service` itself never raises a device failure: a poll, an
adjustment or a renewal the device fails ends in zero output and a fault in its update.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from microamp.clock import Clock
from microamp.devices.base import Command, Device, TelemetryFrame
from microamp.errors import DeviceError, InvalidValue
from microamp.safety.adaptive import AdaptiveIntensity, Adjustment
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import LimitProfile
from microamp.safety.monitor import TelemetryMonitor

__all__ = ["Supervisor", "SupervisorUpdate"]


@dataclass(frozen=True, slots=True)
class SupervisorUpdate:
    """What one `Supervisor.service` call saw and did."""

    frames: list[TelemetryFrame] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    running: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": [f.to_dict() for f in self.frames],
            "faults": [f.to_dict() for f in self.faults],
            "adjustments": [a.to_dict() for a in self.adjustments],
            "running": self.running,
        }


class Supervisor:
    """Watch one device (see the module docstring). ``clock`` must be the device's clock."""

    def __init__(
        self,
        device: Device,
        profile: LimitProfile,
        clock: Clock | None = None,
        *,
        monitor: TelemetryMonitor | None = None,
        adaptive: AdaptiveIntensity | None = None,
        adapt: bool = True,
    ) -> None:
        if clock is not None and clock is not device.clock:
            raise InvalidValue("clock", type(clock).__name__, "must be the device's own clock")
        self.device = device
        self.profile = profile
        self.clock = device.clock
        self.monitor = monitor or TelemetryMonitor()
        self.adaptive = adaptive or AdaptiveIntensity()
        self.adapt = adapt
        self.faults: list[Fault] = []
        self._chosen: Command | None = None
        self._running = False
        self._renewed_s = 0.0

    @property
    def running(self) -> bool:
        """True while output is on under this supervisor."""
        return self._running

    @property
    def chosen(self) -> Command | None:
        """The command as the caller asked for it (before adaptive intensity)."""
        return self._chosen

    @property
    def output_intensity(self) -> float:
        """The intensity (0-1) in force: the chosen one, capped by adaptive intensity."""
        if self._chosen is None or not self._running:
            return 0.0
        return self._effective(self._chosen).intensity

    def apply(self, command: Command) -> None:
        """Start or change output to ``command`` (its intensity is the chosen level)."""
        effective = self._effective(command)
        self.device.apply(effective)
        now = self.clock.now()
        if not self._running:
            self.monitor.start(now)
        self._chosen = command
        self._running = True
        self._renewed_s = now

    def set_intensity(self, intensity: float) -> None:
        """Change the chosen level of the command in force."""
        if self._chosen is None:
            raise InvalidValue("intensity", intensity, "there is no command in force to change")
        self.apply(replace(self._chosen, intensity=intensity))

    def stop(self) -> None:
        """Zero output now (idempotent)."""
        self._running = False
        self.monitor.stop()
        self.device.stop()

    def service(self) -> SupervisorUpdate:
        """Poll, judge, adapt and renew; on a fault, zero output first, then report it."""
        frames, faults = self._poll()
        if not faults and self._running:
            fault = self.monitor.observe(frames, self.clock.now())
            if fault is not None:
                faults.append(self._halt(fault))
        elif not self._running:
            self.monitor.observe(frames, self.clock.now())
        adjustments: list[Adjustment] = []
        if self._running and not faults:
            try:
                adjustments = self._adapt(frames)
                self._renew()
            except DeviceError as exc:
                # a renewal the device did not take (say an unacknowledged heartbeat): the driver
                # has zeroed its output; report the failure like any fault, never raise it
                faults = self._failed(exc)
        self.faults.extend(faults)
        return SupervisorUpdate(frames, faults, adjustments, self._running)

    # -- steps ---------------------------------------------------------------------------------

    def _effective(self, command: Command) -> Command:
        if not self.adapt:
            return command
        return replace(command, intensity=self.adaptive.intensity(command.intensity))

    def _poll(self) -> tuple[list[TelemetryFrame], list[Fault]]:
        """New frames, and the faults the device found itself (its output already zero)."""
        try:
            frames = self.device.poll()
        except DeviceError as exc:
            return [], self._failed(exc)
        faults = self.device.drain_faults()
        if faults:
            faults = self._stamped(faults)
        return frames, faults

    def _failed(self, error: DeviceError) -> list[Fault]:
        """The faults behind a failed device call (a driver error if it recorded none), after
        output is zero."""
        faults = self.device.drain_faults()
        if not faults:
            faults.append(
                Fault.of(
                    FaultCode.DRIVER_ERROR,
                    detected_t_s=self.clock.now(),
                    detail={"error": str(error)},
                )
            )
        return self._stamped(faults)

    def _stamped(self, faults: list[Fault]) -> list[Fault]:
        """Zero output first; then each fault, stamped with when output reached zero."""
        self._zero()
        zero_t_s = self.clock.now()
        return [f if f.zero_t_s is not None else replace(f, zero_t_s=zero_t_s) for f in faults]

    def _halt(self, fault: Fault) -> Fault:
        """Zero output first; then the fault, stamped with when output reached zero."""
        self._zero()
        return replace(fault, zero_t_s=self.clock.now())

    def _zero(self) -> None:
        self._running = False
        self.monitor.stop()
        try:
            self.device.stop()
        except DeviceError:
            # a failing driver has already zeroed what it could and recorded why
            pass

    def _adapt(self, frames: list[TelemetryFrame]) -> list[Adjustment]:
        chosen = self._chosen
        if not self.adapt or chosen is None:
            return []
        adjustment = self.adaptive.observe(frames, chosen.intensity, chosen.waveform.amplitude_ua)
        if adjustment is None:
            return []
        self.device.apply(replace(chosen, intensity=adjustment.to_intensity))
        self._renewed_s = self.clock.now()
        return [adjustment]

    def _renew(self) -> None:
        chosen = self._chosen
        if chosen is None:
            return
        now = self.clock.now()
        if now - self._renewed_s >= min(0.1, chosen.expires_after_s / 4):
            self.device.heartbeat()
            self._renewed_s = now
