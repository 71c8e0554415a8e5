"""`microamp stimulate URL`: direct, supervised output for bench work.

Exit 0 when the run completed, 1 when a fault aborted it, 2 for bad input (a malformed URL, an
unknown backend, a bad waveform or a command the device refuses).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    AmplitudeOpt,
    DutyOpt,
    FrequencyOpt,
    JsonOpt,
    PhaseOpt,
    PolarityOpt,
    ProfileOpt,
    ReversalOpt,
    RiseOpt,
    ShapeOpt,
    bad_input,
    console,
    print_error,
    print_json,
    waveform_from_options,
)
from microamp.errors import BackendUnavailable, DeviceError, InvalidValue

if TYPE_CHECKING:
    from microamp.clock import Clock
    from microamp.devices import Device, Supervisor, SupervisorUpdate
    from microamp.safety import LimitProfile

TICK_S = 0.01
# Below this commanded current a frame's impedance estimate is not worth averaging (µA).
MIN_JUDGED_UA = 20.0

SpeedOpt = Annotated[
    str,
    typer.Option(
        "--speed", help="Times real time (sim only above 1), or 'max' to run the sim flat out."
    ),
]


def clock_for(url: str, speed: str) -> Clock:
    """A clock for ``speed``: 'max' is simulated time (sim only); a number scales real time."""
    from microamp.clock import RealClock, SimulatedClock

    is_sim = url.strip().lower().startswith("sim://")
    if speed.strip().lower() == "max":
        if not is_sim:
            raise InvalidValue(
                "speed", speed, "'max' needs the sim backend: hardware runs in real time"
            )
        return SimulatedClock()
    try:
        factor = float(speed)
    except ValueError:
        raise InvalidValue("speed", speed, "must be a number above 0 or 'max'") from None
    if not (math.isfinite(factor) and factor > 0):
        raise InvalidValue("speed", speed, "must be a number above 0 or 'max'")
    if factor != 1.0 and not is_sim:
        raise InvalidValue("speed", speed, "only the sim backend runs faster than real time")
    return RealClock(factor)


def open_for_cli(url: str, clock: Clock, profile_name: str) -> tuple[Device, LimitProfile]:
    """Open a device for a command, exiting 2 on bad input and 1 when the device fails."""
    from microamp.devices import open_device
    from microamp.safety import get_profile

    try:
        profile = get_profile(profile_name)
    except InvalidValue as exc:
        bad_input(exc)
    try:
        return open_device(url, clock=clock, profile=profile), profile
    except InvalidValue as exc:
        # a URL's parameters are not command-line options: name them as written in the URL
        bad_input(exc, as_option=False)
    except BackendUnavailable as exc:
        print_error(exc)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except DeviceError as exc:
        print_error(exc)
        raise typer.Exit(EXIT_FAILED) from None


@dataclass
class RunTotals:
    """What a run delivered, from the device's own telemetry."""

    charge_uc: float = 0.0
    impedance_sum_ohm: float = 0.0
    impedance_frames: int = 0
    last_current_ua: float = 0.0
    last_impedance_ohm: float = math.nan
    faults: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)

    def add(self, update: SupervisorUpdate) -> None:
        for frame in update.frames:
            self.charge_uc += frame.charge_uc
            self.last_current_ua = frame.delivered_ua
            if frame.commanded_ua >= MIN_JUDGED_UA and math.isfinite(frame.impedance_ohm):
                self.impedance_sum_ohm += frame.impedance_ohm
                self.impedance_frames += 1
                self.last_impedance_ohm = frame.impedance_ohm
        for fault in update.faults:
            data = fault.to_dict()
            self.faults.append(
                {k: data[k] for k in ("code", "message", "onset_t_s", "detected_t_s", "zero_t_s")}
            )
        self.adjustments += [a.to_dict() for a in update.adjustments]

    @property
    def mean_impedance_ohm(self) -> float | None:
        if not self.impedance_frames:
            return None
        return self.impedance_sum_ohm / self.impedance_frames


def run_supervised(
    supervisor: Supervisor,
    duration_s: float,
    on_tick: Callable[[float, RunTotals], None] | None = None,
) -> tuple[RunTotals, float]:
    """Service ``supervisor`` every tick until ``duration_s`` has passed or a fault stops it."""
    clock = supervisor.clock
    totals = RunTotals()
    start_s = clock.now()
    while supervisor.running and clock.now() - start_s < duration_s - 1e-9:
        clock.sleep(min(TICK_S, duration_s - (clock.now() - start_s)))
        totals.add(supervisor.service())
        if on_tick is not None:
            on_tick(clock.now() - start_s, totals)
    return totals, clock.now() - start_s


def stimulate(
    url: Annotated[str, typer.Argument(help="Device URL, e.g. sim://?load=gel")],
    duration_s: Annotated[float, typer.Option("--duration-s", help="Seconds of output.")],
    shape: ShapeOpt = "square",
    amplitude_ua: AmplitudeOpt = 200.0,
    frequency_hz: FrequencyOpt = 10.0,
    duty: DutyOpt = 0.5,
    polarity: PolarityOpt = "alternating",
    reversal_s: ReversalOpt = 2.5,
    rise_s: RiseOpt = 0.0,
    phase_us: PhaseOpt = 500.0,
    profile: ProfileOpt = "home",
    zone: Annotated[str | None, typer.Option("--zone", help="Face zone (its cap applies).")] = None,
    speed: SpeedOpt = "1",
    json_out: JsonOpt = False,
) -> None:
    """Drive a device directly, supervised: faults zero output; report charge and impedance."""
    from microamp.devices import Command, Supervisor
    from microamp.safety import ZONES

    waveform = waveform_from_options(
        shape, amplitude_ua, frequency_hz, duty, polarity, reversal_s, rise_s, phase_us
    )
    if not (math.isfinite(duration_s) and duration_s > 0):
        bad_input(InvalidValue("duration_s", duration_s, "must be greater than 0 s"))
    if zone is not None and zone not in ZONES:
        bad_input(InvalidValue("zone", zone, f"must be one of {', '.join(ZONES)}"))
    try:
        clock = clock_for(url, speed)
    except InvalidValue as exc:
        bad_input(exc)
    device, limits = open_for_cli(url, clock, profile)
    with device:
        if duration_s > limits.max_session_s.value:
            bad_input(
                InvalidValue(
                    "duration_s",
                    duration_s,
                    f"the {limits.name} profile allows at most {limits.max_session_s.value:g} s",
                )
            )
        supervisor = Supervisor(device, limits)
        try:
            supervisor.apply(Command(waveform, zone=zone))
        except InvalidValue as exc:
            bad_input(exc)
        except DeviceError as exc:
            print_error(exc)
            raise typer.Exit(EXIT_FAILED) from None
        if json_out:
            totals, elapsed_s = run_supervised(supervisor, duration_s)
        else:
            totals, elapsed_s = _run_live(supervisor, duration_s)
        supervisor.stop()
    document = {
        "status": "aborted" if totals.faults else "completed",
        "url": url,
        "profile": limits.name,
        "waveform": waveform.to_dict(),
        "duration_s": elapsed_s,
        "delivered_charge_uc": totals.charge_uc,
        "mean_impedance_ohm": totals.mean_impedance_ohm,
        "faults": totals.faults,
        "adjustments": totals.adjustments,
    }
    if json_out:
        print_json(document)
    else:
        _print_summary(document)
    if totals.faults:
        raise typer.Exit(EXIT_FAILED)


def _run_live(supervisor: Supervisor, duration_s: float) -> tuple[RunTotals, float]:
    from rich.live import Live
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[reading]}"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("output", total=duration_s, reading="")

    def on_tick(elapsed_s: float, totals: RunTotals) -> None:
        z = totals.last_impedance_ohm
        impedance = f"{z / 1000:7.1f} kΩ" if math.isfinite(z) else "     – kΩ"
        reading = f"{totals.last_current_ua:6.1f} µA  {impedance}  {totals.charge_uc:8.2f} µC"
        progress.update(task, completed=elapsed_s, reading=reading)

    with Live(progress, console=console, refresh_per_second=10):
        return run_supervised(supervisor, duration_s, on_tick)


def _print_summary(document: dict[str, Any]) -> None:
    impedance = document["mean_impedance_ohm"]
    z_text = f"{impedance:.0f} Ω" if impedance is not None else "not measured"
    console.print(
        f"{document['status']}: {document['duration_s']:.2f} s, "
        f"{document['delivered_charge_uc']:.2f} µC delivered, mean impedance {z_text}"
    )
    for adjustment in document["adjustments"]:
        console.print(f"[yellow]adjusted:[/] {adjustment['reason']}", highlight=False)
    for fault in document["faults"]:
        console.print(f"[bold red]{fault['code']}:[/] {fault['message']}", highlight=False)
