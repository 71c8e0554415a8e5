"""`microamp render PROTOCOL|--duration-s S [waveform options] --out FILE.wav|FILE.csv`.

What the probes would carry, sample by sample, through the limits, the output guard and the
device's trip, beside the current that flowed into a chosen simulated load (`--device-load`).
Exit 0 when the run completed, 1 when it was refused or aborted, 2 for bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from microamp.cli.common import (
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
    print_json,
    waveform_from_options,
)
from microamp.errors import InvalidValue


def render(
    protocol: Annotated[
        str | None,
        typer.Argument(help="A library protocol or a .toml file; omit to render a waveform."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="FILE.wav or FILE.csv")] = None,
    device_load: Annotated[
        str,
        typer.Option("--device-load", help="The simulated load: gel, wet, dry, lifted, r500..."),
    ] = "gel",
    rate_hz: Annotated[
        float, typer.Option("--rate-hz", help="Samples per second (1000-200000).")
    ] = 20_000.0,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", help="Seconds of a waveform (not a protocol).")
    ] = None,
    shape: ShapeOpt = "square",
    amplitude_ua: AmplitudeOpt = 200.0,
    frequency_hz: FrequencyOpt = 10.0,
    duty: DutyOpt = 0.5,
    polarity: PolarityOpt = "alternating",
    reversal_s: ReversalOpt = 2.5,
    rise_s: RiseOpt = 0.0,
    phase_us: PhaseOpt = 500.0,
    intensity: Annotated[float, typer.Option("--intensity", help="0-1 of the amplitude.")] = 1.0,
    profile: ProfileOpt = "home",
    json_out: JsonOpt = False,
) -> None:
    """Render a session or a waveform to WAV (2 channels, 16-bit) or CSV, with no device."""
    from microamp.safety import get_profile
    from microamp.session.render import render_protocol, render_waveform

    if out is None:
        bad_input(InvalidValue("out", None, "is required: FILE.wav or FILE.csv"))
    if not 1000.0 <= rate_hz <= 200_000.0:
        bad_input(InvalidValue("rate_hz", rate_hz, "must be from 1000 to 200000 Hz"))
    if not 0.0 <= intensity <= 1.0:
        bad_input(InvalidValue("intensity", intensity, "must be from 0 to 1"))
    try:
        limits = get_profile(profile)
        if protocol is not None:
            if duration_s is not None:
                raise InvalidValue(
                    "duration_s", duration_s, "applies to a waveform, not a protocol"
                )
            from microamp.protocols import load_protocol

            report = render_protocol(
                load_protocol(protocol), out, profile=limits, load=device_load, rate_hz=rate_hz
            )
        else:
            if duration_s is None:
                raise InvalidValue("duration_s", None, "is required to render a waveform")
            waveform = waveform_from_options(
                shape, amplitude_ua, frequency_hz, duty, polarity, reversal_s, rise_s, phase_us
            )
            report = render_waveform(
                waveform,
                duration_s,
                out,
                profile=limits,
                load=device_load,
                rate_hz=rate_hz,
                intensity=intensity,
            )
    except InvalidValue as exc:
        bad_input(exc)
    if json_out:
        print_json(report.to_dict())
    else:
        scale = (
            f", full scale {report.full_scale_ua:g} µA (one step {report.step_ua:.4f} µA); "
            "channel 1 the current driven, channel 2 the current that flowed"
            if report.step_ua is not None
            else ""
        )
        console.print(
            f"{report.status}: {report.duration_s:.2f} s at {report.sample_rate_hz:g} Hz into "
            f"{report.load} written to {report.path}{scale}",
            highlight=False,
        )
        for fault in report.faults:
            console.print(f"[bold red]{fault['code']}:[/] {fault['message']}", highlight=False)
    if report.status != "completed":
        raise typer.Exit(EXIT_FAILED)
