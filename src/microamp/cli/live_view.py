"""The live terminal view of a session under `microamp run`, and its keys."""

from __future__ import annotations

import getpass
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from microamp.cli.common import console

if TYPE_CHECKING:
    from rich.console import RenderableType

    from microamp.session import Event, Operator, SessionRunner, SessionSummary

__all__ = ["LiveSession", "terminal_operator"]

# Wall seconds between redraws of the live view.
_REFRESH_S = 0.1


class _Keys:
    """Single key presses from a terminal, read without blocking (nothing when not a TTY)."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self._saved: list[Any] | None = None

    def __enter__(self) -> _Keys:
        if self.interactive:
            import termios
            import tty

            fd = sys.stdin.fileno()
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)

    def read(self) -> str:
        if not self.interactive:
            return ""
        import os
        import select

        fd = sys.stdin.fileno()
        ready, _, _ = select.select([fd], [], [], 0)
        return os.read(fd, 32).decode(errors="ignore") if ready else ""


def terminal_operator() -> Operator:
    """The OS user at this terminal: the operator of every key pressed here."""
    from microamp.session import Operator

    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the password database
        name = f"uid {os.getuid()}"
    return Operator(name, None, "cli")


class LiveSession:
    """The live terminal view of a session, and its keys: p / space pause, q / s stop."""

    def __init__(self, runner: SessionRunner) -> None:
        self.runner = runner
        self.operator = terminal_operator()
        self.cue = ""
        self.notes: list[str] = []
        runner.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        data = event.to_dict()
        if event.kind == "cue":
            self.cue = str(data["text"])
        elif event.kind in ("fault", "refused", "paused", "resumed", "step_skipped", "ended"):
            detail = data.get("message") or data.get("reason") or data.get("reasons") or ""
            self.notes = [*self.notes[-3:], f"{event.t_s:7.1f} s  {event.kind}: {detail}"]

    def _keys(self, pressed: str) -> None:
        for key in pressed.lower():
            if key in "p ":
                paused = self.runner.status == "paused"
                if paused:
                    self.runner.resume(self.operator)
                else:
                    self.runner.pause(self.operator)
            elif key in "qs":
                self.runner.stop(self.operator)

    def run(self, *, interactive: bool) -> SessionSummary:
        from rich.live import Live

        runner = self.runner
        with _Keys(interactive) as keys, Live(self.render(), console=console) as live:
            try:
                runner.start()
                next_draw = 0.0
                while not runner.status.final:
                    self._keys(keys.read())
                    runner.tick()
                    if time.monotonic() >= next_draw:
                        live.update(self.render())
                        next_draw = time.monotonic() + _REFRESH_S
            except KeyboardInterrupt:
                runner.stop(self.operator)
                runner.tick()
            live.update(self.render())
        summary = runner.summary()
        console.print(self._outcome(summary))
        return summary

    def render(self) -> RenderableType:
        from rich.console import Group
        from rich.panel import Panel
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        runner = self.runner
        readout = runner.snapshot()
        run, rep = readout.step, readout.repetition
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", justify="right")
        grid.add_column()
        if run is not None and rep is not None:
            step = run.step
            grid.add_row("step", f"{run.position + 1} of {len(runner.runs)}: {step.label} "
                         f"({step.zone}, {rep.side}, {step.technique})")  # fmt: skip
            grid.add_row("current", f"{run.amplitude_ua:g} µA: {run.constraint.explain()}")
            grid.add_row("cue", f"[bold cyan]{self.cue}[/]")
            left_s = max(0.0, min(rep.end_s, run.step.cue_interval_s + rep.start_s)
                         - runner.position_s)  # fmt: skip
            grid.add_row("move in", f"{left_s:4.1f} s")
            done_s = runner.position_s - run.start_s
            grid.add_row("step", ProgressBar(total=run.duration_s, completed=done_s, width=40))
        grid.add_row("session", ProgressBar(total=max(runner.total_s, 1e-9),
                                             completed=runner.position_s, width=40))  # fmt: skip
        grid.add_row("live", self._live_line())
        if readout.holding:
            grid.add_row("held", f"[bold yellow]{readout.holding}[/]")
        for note in self.notes:
            grid.add_row("", note)
        title = f"{runner.protocol.title} [{runner.status}]"
        keys = "p / space: pause or resume   q / s: stop"
        return Panel(Group(grid), title=title, subtitle=keys)

    def _live_line(self) -> str:
        frame = self.runner.last_frame
        readout = self.runner.snapshot()
        if frame is None or readout.delivered_ua is None or readout.delivered_peak_ua is None:
            return "no telemetry yet"
        z = frame.impedance_ohm
        if frame.commanded_ua <= 0:
            impedance = "idle"
        else:
            impedance = f"{z / 1000:.1f} kΩ" if z == z and z != float("inf") else "open circuit"
        return (
            f"{readout.delivered_ua:6.1f} µA mean, {readout.delivered_peak_ua:6.1f} µA peak, "
            f"{impedance}, level {self.runner.level:.0%}"
        )

    @staticmethod
    def _outcome(summary: SessionSummary) -> RenderableType:
        from rich.table import Table

        table = Table(title=f"{summary.protocol}: {summary.status} ({summary.reason})")
        for column in ("zone", "charge µC", "time s", "mean µA", "mean kΩ"):
            table.add_column(column, justify="right")
        for zone, dose in summary.dose_by_zone.items():
            z = dose.mean_impedance_ohm
            table.add_row(zone, f"{dose.charge_uc:.0f}", f"{dose.stimulation_s:.0f}",
                          f"{dose.mean_current_ua:.0f}", "-" if z is None else f"{z / 1000:.1f}")  # fmt: skip
        table.caption = (
            f"{summary.steps_completed} of {summary.steps_total} steps, "
            f"{summary.duration_s:.0f} s, {summary.delivered_charge_uc:.0f} µC delivered"
        )
        return table
