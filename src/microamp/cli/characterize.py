"""`microamp characterize DEVICE_URL [--profile P] [--out report.html] [--json]`.

Drives each waveform family into each test load through `Device.apply` on simulated time and
measures what was delivered (`microamp.session.characterize`). A table on stdout, one JSON
document with ``--json``, a self-contained HTML page (inline SVG, no scripts) with ``--out``;
progress on stderr. Exit 0 when measured (each requirement's pass/fail is in the report), 2 for
bad input.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    JsonOpt,
    ProfileOpt,
    bad_input,
    console,
    err_console,
    print_error,
    print_json,
)
from microamp.errors import BackendUnavailable, DeviceError, InvalidValue
from microamp.session.characterize_report import Characterization, FaultReaction, WaveformRow


def characterize(
    device_url: Annotated[str, typer.Argument(help="The device, e.g. sim://")],
    out: Annotated[Path | None, typer.Option("--out", help="Write an HTML report here.")] = None,
    load: Annotated[
        str | None, typer.Option("--load", help="What is attached to a non-sim device.")
    ] = None,
    electrode_area_cm2: Annotated[
        float, typer.Option("--electrode-area-cm2", help="Contact area of one probe, cm².")
    ] = 1.0,
    step_ua: Annotated[
        float, typer.Option("--step-ua", help="The smallest non-zero amplitude setting, µA.")
    ] = 1.0,
    watch_s: Annotated[
        float,
        typer.Option("--watch-s", help="Then keep output on this long and time each fault seen."),
    ] = 0.0,
    profile: ProfileOpt = "home",
    json_out: JsonOpt = False,
) -> None:
    """Characterise the output into the regulator's test loads."""
    from microamp.safety import get_profile
    from microamp.session.characterize import characterize as run

    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        bad_input(InvalidValue("out", str(out), "must end in .html"))
    if out is not None and not out.parent.exists():
        bad_input(InvalidValue("out", str(out), "its folder does not exist"))
    try:
        report = run(
            device_url,
            get_profile(profile),
            electrode_area_cm2=electrode_area_cm2,
            step_ua=step_ua,
            load=load,
            watch_s=watch_s,
            progress=lambda message: err_console.print(f"measuring {message}", highlight=False),
        )
    except InvalidValue as exc:
        bad_input(exc)
    except BackendUnavailable as exc:
        print_error(exc)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except DeviceError as exc:
        # the work began and the device failed it (a port gone, a link lost mid-run)
        print_error(exc)
        raise typer.Exit(EXIT_FAILED) from None
    if out is not None:
        out.write_text(report_html(report), encoding="utf-8")
    if json_out:
        print_json(report.to_dict())
        return
    _print_table(report)
    if out is not None:
        console.print(f"report written to {out}", highlight=False)


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _reaction(reaction: FaultReaction) -> str:
    if reaction.reaction_s is not None:
        return f"zero after {reaction.reaction_s:.4f} s"
    if reaction.faults:
        return f"not measured: output had stopped first ({', '.join(reaction.faults)})"
    return "output went on"


def _share(share_pct: float | None) -> str:
    return "n/m (no current at the highest setting)" if share_pct is None else f"{share_pct:.2f} %"


def _fig(value: float | None, digits: int) -> str:
    """A figure, or "n/m" where the device cannot measure it."""
    return "n/m" if value is None else f"{value:.{digits}f}"


def _print_table(report: Characterization) -> None:
    table = Table(title=f"{report.device_url} ({report.profile} profile)")
    for name in (
        "waveform", "load", "peak µA", "rms µA", "DC µA", "net µC/pulse",
        "phase µC", "µA/cm²", "headroom V", "result",
    ):  # fmt: skip
        table.add_column(name)
    for r in report.rows:
        table.add_row(
            r.waveform, r.load, f"{r.peak_ua:.1f}", _fig(r.rms_ua, 1), _fig(r.dc_ua, 2),
            _fig(r.net_charge_per_pulse_uc, 3), _fig(r.max_phase_charge_uc, 3),
            _fig(r.density_ua_cm2, 1), f"{r.headroom_v:.2f}",
            _verdict(r.passed) + (f" ({', '.join(r.faults)})" if r.faults else ""),
        )  # fmt: skip
    console.print(table)
    unmeasured = {r.not_measured for r in report.rows if r.not_measured}
    for reason in sorted(unmeasured):
        console.print(f"n/m: {reason}", highlight=False)
    low = report.lowest
    console.print(
        f"lowest setting {low.lowest_ua:.2f} µA of {low.highest_ua:.1f} µA = "
        f"{_share(low.share_pct)} (at most 2 %): {_verdict(low.passed)}",
        highlight=False,
    )
    for f in report.reactions:
        reaction = _reaction(f)
        source = "" if f.measured_from == "probes" else f" ({f.measured_from})"
        console.print(f"fault {f.kind}: {reaction}{source}: {_verdict(f.passed)}", highlight=False)


_PLOT_W = 240
_PLOT_H = 80


def _svg(row: WaveformRow) -> str:
    """One cycle of delivered current as an inline SVG polyline, zero in the middle."""
    values = row.plot_ua
    scale = max(1e-9, max((abs(v) for v in values), default=1.0))
    step = max(1, len(values) // _PLOT_W)
    points = " ".join(
        f"{i * _PLOT_W / max(1, len(values) - 1):.1f},"
        f"{_PLOT_H / 2 - v / scale * (_PLOT_H / 2 - 4):.1f}"
        for i, v in list(enumerate(values))[::step]
    )
    drawn = "the peak of each telemetry frame over one cycle" if row.not_measured else "one cycle"
    label = f"{row.waveform} into {row.load}: {drawn}, peak {row.peak_ua:.1f} µA"
    return (
        f'<svg role="img" aria-label="{html.escape(label)}" viewBox="0 0 {_PLOT_W} {_PLOT_H}" '
        f'width="{_PLOT_W}" height="{_PLOT_H}"><line x1="0" y1="{_PLOT_H / 2}" x2="{_PLOT_W}" '
        f'y2="{_PLOT_H / 2}" stroke="#999"/><polyline fill="none" stroke="#1d70b8" '
        f'stroke-width="1.5" points="{points}"/></svg>'
    )


def report_html(report: Characterization) -> str:
    """A self-contained page: the tables and one plotted cycle per waveform and load."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r.waveform)}</td><td>{e(r.load)}</td><td>{r.peak_ua:.1f}</td>"
        f"<td>{_fig(r.rms_ua, 1)}</td><td>{_fig(r.dc_ua, 2)}</td>"
        f"<td>{_fig(r.net_charge_per_pulse_uc, 3)}</td>"
        f"<td>{_fig(r.max_phase_charge_uc, 3)}</td><td>{_fig(r.density_ua_cm2, 1)}</td>"
        f"<td>{r.headroom_v:.2f}</td><td>{_verdict(r.passed)} {e(', '.join(r.faults))}</td>"
        f"<td>{_svg(r)}</td></tr>"
        for r in report.rows
    )
    faults = "".join(
        f"<tr><td>{e(f.kind)}</td><td>{e(_reaction(f))}</td><td>{_verdict(f.passed)}</td></tr>"
        for f in report.reactions
    )
    low = report.lowest
    notes = "".join(
        f"<p>n/m: {e(reason)}</p>"
        for reason in sorted({r.not_measured for r in report.rows} - {""})
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Output characterisation: {e(report.device_url)}</title>
<style>body{{font-family:sans-serif;margin:1rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:.2rem .4rem;text-align:right}}
.scroll{{overflow-x:auto}}</style></head><body>
<h1>Output characterisation</h1>
<p>{e(report.device_url)}, {e(report.profile)} profile, electrode area
{report.electrode_area_cm2:g} cm², measured from the device's {e(report.measured_from)}.
Overall: {_verdict(report.passed)}.</p>{notes}
<h2>Waveforms into each load</h2><div class="scroll"><table>
<tr><th>waveform</th><th>load</th><th>peak µA</th><th>rms µA</th><th>DC µA</th>
<th>net µC per pulse</th><th>max phase µC</th><th>µA/cm²</th><th>headroom V</th>
<th>result</th><th>one cycle delivered</th></tr>{rows}</table></div>
<h2>Lowest setting</h2><p>{low.lowest_ua:.2f} µA of {low.highest_ua:.1f} µA =
{_share(low.share_pct)} (IEC 60601-2-10: at most 2 %): {_verdict(low.passed)}</p>
<h2>Fault reaction</h2><table><tr><th>fault</th><th>to zero output</th><th>result</th></tr>
{faults}</table></body></html>
"""
