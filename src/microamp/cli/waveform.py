"""`microamp waveform`: measure a waveform against a profile, and draw it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from microamp.cli.common import (
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

app = typer.Typer(help="Measure and draw current waveforms.", no_args_is_help=True)

DurationOpt = Annotated[float, typer.Option("--duration-s", help="Seconds to analyse.")]
RateOpt = Annotated[float, typer.Option("--sample-rate-hz", help="Samples per second.")]
AreaOpt = Annotated[
    float, typer.Option("--electrode-area-cm2", help="Contact area of one probe, cm².")
]


def _stats_document(
    waveform: Any, duration_s: float, sample_rate_hz: float, area_cm2: float, profile_name: str
) -> dict[str, Any]:
    from microamp.safety import check_waveform, get_profile
    from microamp.stimulus import measure, render_steady

    profile = get_profile(profile_name)
    if not 0 < sample_rate_hz <= 10_000_000:
        raise InvalidValue("sample_rate_hz", sample_rate_hz, "must be between 0 and 10 MHz")
    samples = render_steady(waveform, duration_s, sample_rate_hz)
    metrics = measure(
        samples, sample_rate_hz, electrode_area_cm2=area_cm2, dc_window_s=profile.dc_window_s.value
    )
    report = check_waveform(waveform, metrics, profile)
    return {
        "waveform": waveform.to_dict(),
        "sample_rate_hz": sample_rate_hz,
        "electrode_area_cm2": area_cm2,
        **metrics.to_dict(),
        "limits": report.to_dict(),
    }


@app.command()
def stats(
    shape: ShapeOpt = "square",
    amplitude_ua: AmplitudeOpt = 200.0,
    frequency_hz: FrequencyOpt = 10.0,
    duty: DutyOpt = 0.5,
    polarity: PolarityOpt = "alternating",
    reversal_s: ReversalOpt = 2.5,
    rise_s: RiseOpt = 0.0,
    phase_us: PhaseOpt = 500.0,
    duration_s: DurationOpt = 10.0,
    sample_rate_hz: RateOpt = 50_000.0,
    electrode_area_cm2: AreaOpt = 1.0,
    profile: ProfileOpt = "home",
    json_out: JsonOpt = False,
) -> None:
    """Peak, r.m.s., DC, charge and current density of a waveform, checked against a profile.

    Exits 0 whether or not the waveform is within the profile; the output says which.
    """
    waveform = waveform_from_options(
        shape, amplitude_ua, frequency_hz, duty, polarity, reversal_s, rise_s, phase_us
    )
    try:
        doc = _stats_document(waveform, duration_s, sample_rate_hz, electrode_area_cm2, profile)
    except InvalidValue as exc:
        bad_input(exc)
    if json_out:
        print_json(doc)
        return
    _print_stats(doc)


def _print_stats(doc: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="Waveform metrics", show_header=False)
    rows = [
        ("peak", f"{doc['peak_ua']:.2f} µA"),
        ("r.m.s.", f"{doc['rms_ua']:.2f} µA"),
        ("mean (DC)", f"{doc['mean_ua']:.3f} µA"),
        ("net charge", f"{doc['net_charge_uc']:.3f} µC"),
        ("absolute charge", f"{doc['abs_charge_uc']:.3f} µC"),
        ("largest imbalance", f"{doc['max_imbalance_uc']:.3f} µC"),
        ("r.m.s. density", f"{doc['rms_density_ma_cm2']:.4f} mA/cm²"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    limits = doc["limits"]
    if limits["ok"]:
        console.print(f"[green]Within the {limits['profile']} profile.[/]")
    for v in limits["violations"]:
        console.print(f"[red]✗ {v['rule']}:[/] {v['message']}  [dim]({v['source']})[/]")
    for w in limits["warnings"]:
        console.print(f"[yellow]! {w['rule']}:[/] {w['message']}  [dim]({w['source']})[/]")


@app.command()
def plot(
    out: Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg")],
    shape: ShapeOpt = "square",
    amplitude_ua: AmplitudeOpt = 200.0,
    frequency_hz: FrequencyOpt = 10.0,
    duty: DutyOpt = 0.5,
    polarity: PolarityOpt = "alternating",
    reversal_s: ReversalOpt = 2.5,
    rise_s: RiseOpt = 0.0,
    phase_us: PhaseOpt = 500.0,
    duration_s: Annotated[
        float | None,
        typer.Option("--duration-s", help="Seconds to draw (default: three periods)."),
    ] = None,
    sample_rate_hz: RateOpt = 100_000.0,
    profile: ProfileOpt = "home",
) -> None:
    """Draw the waveform like an oscilloscope: time in ms, current in µA, the limits dashed."""
    from microamp.safety import get_profile
    from microamp.viz.waveform import plot_waveform

    waveform = waveform_from_options(
        shape, amplitude_ua, frequency_hz, duty, polarity, reversal_s, rise_s, phase_us
    )
    if out.suffix.lower() not in (".png", ".svg"):
        bad_input(InvalidValue("out", str(out), "must end in .png or .svg"))
    try:
        limits = get_profile(profile)
        span_s = duration_s if duration_s is not None else 3.0 / waveform.frequency_hz
        plot_waveform(waveform, limits, out, duration_s=span_s, sample_rate_hz=sample_rate_hz)
    except InvalidValue as exc:
        bad_input(exc)
    except OSError as exc:
        bad_input(InvalidValue("out", str(out), f"cannot be written: {exc.strerror}"))
    console.print(f"Wrote {out}")
