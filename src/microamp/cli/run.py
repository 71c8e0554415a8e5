"""`microamp run`: a guided session on a device, live in the terminal or as one JSON summary.

`open_session` builds the runner from the command's arguments with injectable prechecks and
subscribers, and `run_session` drives it and reports, so a command that adds options (a client
record, say) reuses both and only fills the hooks.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    JsonOpt,
    audit_cli,
    bad_input,
    console,
    print_error,
    print_json,
)
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import DeviceError, InvalidValue

if TYPE_CHECKING:
    from rich.console import RenderableType

    from microamp.clock import Clock
    from microamp.session import (
        Event,
        EventSubscriber,
        Operator,
        Prechecks,
        SessionOptions,
        SessionRunner,
        SessionSummary,
        TelemetrySubscriber,
    )

__all__ = ["LiveSession", "exit_code", "open_session", "parse_speed", "run", "run_session"]

ProtocolArg = Annotated[str, typer.Argument(help="A library protocol's name, or a .toml file.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="Device URL, e.g. sim://?load=gel")]
RunProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", help="home | professional | a .toml (default: the audience's)"),
]
IntensityOpt = Annotated[
    float,
    typer.Option(
        "--intensity", help="Level, 0-1 of each step's requested current, never above its limits."
    ),
]
SpeedOpt = Annotated[
    str, typer.Option("--speed", help="Times real time (sim only), or max: as fast as possible.")
]

# Wall seconds between redraws of the live view.
_REFRESH_S = 0.1


def parse_speed(speed: str) -> float | None:
    """``max`` -> None (simulated time), else a factor above 0; raises `InvalidValue`."""
    if speed.strip().lower() == "max":
        return None
    try:
        factor = float(speed)
    except ValueError:
        raise InvalidValue("speed", speed, "must be a number above 0 or max") from None
    if not (factor > 0 and factor < float("inf")):
        raise InvalidValue("speed", speed, "must be a number above 0 or max")
    return factor


def _clock(speed: str, device_url: str) -> Clock:
    """Hardware runs on the real clock; the simulator on simulated time, paced or as fast as
    possible (host work never counts as session time, so commands are renewed in time)."""
    from microamp.clock import PacedClock, RealClock, SimulatedClock

    factor = parse_speed(speed)
    if not device_url.startswith("sim:"):
        if factor != 1.0:
            raise InvalidValue(
                "speed", speed, "only the simulator (sim://) runs faster than real time"
            )
        return RealClock()
    return SimulatedClock() if factor is None else PacedClock(factor)


@contextlib.contextmanager
def open_session(
    protocol_ref: str,
    device_url: str,
    *,
    profile: str | None = None,
    intensity: float = 1.0,
    speed: str = "1",
    prechecks: Prechecks | None = None,
    subscribers: Iterable[EventSubscriber] = (),
    telemetry_subscribers: Iterable[TelemetrySubscriber] = (),
    options: SessionOptions | None = None,
) -> Iterator[SessionRunner]:
    """A runner for the arguments of `microamp run`, its device closed (output zero) on exit.

    ``options`` overrides ``intensity`` when given. Raises `InvalidValue` for bad arguments or a
    protocol that breaks the profile, `DeviceError` if the device cannot be opened.
    """
    from dataclasses import replace

    from microamp.devices import open_device
    from microamp.protocols import load_protocol
    from microamp.safety import get_profile
    from microamp.session import SessionOptions, SessionRunner

    protocol = load_protocol(protocol_ref)
    limits = get_profile(profile or protocol.audience)
    session_options = options or replace(SessionOptions(), intensity=intensity)
    clock = _clock(speed, device_url)
    with open_device(device_url, clock=clock, profile=limits) as device:
        yield SessionRunner(
            protocol,
            device,
            profile=limits,
            options=session_options,
            prechecks=prechecks,
            subscribers=subscribers,
            telemetry_subscribers=telemetry_subscribers,
        )


def exit_code(summary: SessionSummary) -> int:
    """0 completed or stopped by the operator, 1 aborted by a fault or refused."""
    return 0 if summary.status in ("completed", "stopped") else EXIT_FAILED


def run_session(
    runner: SessionRunner,
    *,
    json_out: bool,
    device_url: str,
    extra: dict[str, Any] | None = None,
) -> int:
    """Drive ``runner`` to its end (live view unless ``json_out``), print the outcome, exit code.

    ``extra`` joins the JSON summary (a record id, say).
    """
    if json_out:
        summary = runner.run()
        document = summary.to_dict()
        document["device"] = device_url
        document.update(extra or {})
        print_json(document)
    else:
        summary = LiveSession(runner).run(interactive=sys.stdin.isatty())
    return exit_code(summary)


ClientOpt = Annotated[
    int | None,
    typer.Option(
        "--client",
        help="Client record id: screen and check consent first, then record the session.",
    ),
]


def run(
    protocol: ProtocolArg,
    device: DeviceOpt,
    profile: RunProfileOpt = None,
    intensity: IntensityOpt = 1.0,
    speed: SpeedOpt = "1",
    client: ClientOpt = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a guided session: cues, countdown, live current; p/space pauses, q/s stops.

    With --client the clinic's gate runs first (no current for a client who is blocked, exit 1
    with the reasons) and the session is recorded from what the device delivered.
    """
    try:
        if client is not None:
            code = _run_for_client(
                protocol, device, client, database,
                profile=profile, intensity=intensity, speed=speed, json_out=json_out,
            )  # fmt: skip
        else:
            with open_session(
                protocol, device, profile=profile, intensity=intensity, speed=speed
            ) as runner:
                code = run_session(runner, json_out=json_out, device_url=device)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    except DeviceError as exc:
        print_error(exc)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if code:
        raise typer.Exit(code)


def _run_for_client(
    protocol: str,
    device: str,
    client_id: int,
    database: str | None,
    *,
    profile: str | None,
    intensity: float,
    speed: str,
    json_out: bool,
) -> int:
    """Gate, run and record a session for a client; the record id joins the summary."""
    from datetime import date

    from microamp.errors import NotFound
    from microamp.store import SessionRecorder, get_client, record_summary
    from microamp.store.gating import client_prechecks

    today = date.today()
    with open_cli_store(database) as store:
        with store.transaction() as db:
            try:
                get_client(db, client_id=client_id)
            except NotFound as exc:
                store_failed(exc)
            audit_cli(db, "read", f"client:{client_id}/session", client_id=client_id,
                      protocol=protocol, device=device)  # fmt: skip
        prechecks = client_prechecks(store, client_id=client_id, on=today)
        with open_session(
            protocol, device, profile=profile, intensity=intensity, speed=speed, prechecks=prechecks
        ) as runner:
            # the record opens once the protocol and device are accepted: bad input leaves none
            recorder = SessionRecorder.start(
                store,
                protocol_name=runner.protocol.name,
                protocol_version=runner.protocol.version,
                protocol_hash=runner.protocol.content_hash(),
                device_url=device,
                client_id=client_id,
            )
            runner.subscribe(recorder)
            runner.subscribe_telemetry(recorder)
            try:
                code = run_session(
                    runner, json_out=json_out, device_url=device,
                    extra={"record_id": recorder.session_id},
                )  # fmt: skip
                summary = runner.summary()
            finally:
                recorder.close()
        record_summary(store, session_id=recorder.session_id, summary=summary)
        if not json_out:
            console.print(
                f"Recorded as session {recorder.session_id}: microamp records show {recorder.session_id}"
            )
    return code


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
