"""`Output`: what the runner tells the device, and at which level through which limits.

The runner decides when (the timeline of steps, repetitions and ramps); `Output` turns a point on
a ramp into a command: the operator's level through the step's limits (`StepLevel`), times the
ramp, sent through the supervisor, which renews it and lets adaptive intensity lower it.
"""

from __future__ import annotations

from microamp.devices.base import Command
from microamp.devices.supervisor import Supervisor
from microamp.errors import DeviceError
from microamp.safety.limits import LimitProfile
from microamp.session.level import StepLevel
from microamp.session.schedule import Limits, StepRun

__all__ = ["Output"]


class Output:
    """The command in force and ``level``, its intensity (0-1 of the step's capped waveform).

    ``intensity`` is the operator's level (0-1 of each step's requested current); ``limits`` are
    set once the prechecks have passed.
    """

    def __init__(
        self,
        supervisor: Supervisor,
        profile: LimitProfile,
        intensity: float,
        expires_after_s: float,
    ) -> None:
        self.supervisor = supervisor
        self.profile = profile
        self.intensity = intensity
        self.expires_after_s = expires_after_s
        self.limits = Limits()
        self.level = 0.0
        self.command: Command | None = None
        self._step_level: StepLevel | None = None

    def level_on(self, run: StepRun) -> StepLevel:
        """The operator's level through ``run``'s limits (kept until the step or level changes)."""
        at = self._step_level
        if at is None or at.run is not run or at.level != self.intensity:
            at = StepLevel.of(run, self.intensity, self.profile, self.limits)
            self._step_level = at
        return at

    def drive(self, run: StepRun, shape: float) -> None:
        """Command ``shape`` (0-1: ramp, hold, resume) of the step's peak at the operator's level."""
        self.command_level(run, shape * self.level_on(run).fraction)

    def ramp_down(self, run: StepRun, step_s: float, ramp_s: float) -> None:
        """One step of ``step_s`` toward zero, at the rate of the step's own ramps (``ramp_s``)."""
        height = max(self.level_on(run).fraction, self.level)
        self.command_level(run, max(0.0, self.level - step_s * height / max(ramp_s, step_s)))

    def command_level(self, run: StepRun, level: float) -> None:
        """Command ``level`` (0-1) of the step's capped amplitude; the supervisor renews it."""
        level = min(1.0, max(0.0, level))
        last = self.command
        if last is not None and last.waveform is run.waveform:
            if abs(last.intensity - level) >= 1e-9:
                # the same waveform at a new level: the supervisor changes the command in force
                # and the device slews to it, never faster than the profile's slew limit
                self.supervisor.set_intensity(level)
                self.command = self.supervisor.chosen
                self.level = level
            return
        # the client's and practitioner's ceilings travel with the command, so the device's own
        # limit check holds them too, whatever the runner computed
        command = Command(
            run.waveform,
            level,
            self.expires_after_s,
            zone=run.step.zone,
            client_max_ua=self.limits.client_max_ua,
            practitioner_max_ua=self.limits.practitioner_max_ua,
        )
        self.supervisor.apply(command)
        self.command = command
        self.level = level

    def zero(self) -> None:
        """Output to zero now, whatever state the device is in."""
        self.command = None
        self.level = 0.0
        try:
            self.supervisor.stop()
        except DeviceError:
            pass  # stop zeroes before it can fail; a dead link has no output to zero
