"""`microamp demo`: a short guided tour in the terminal, rendered through the real safety path."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from microamp.cli.common import console

if TYPE_CHECKING:
    from rich.console import Group
    from rich.progress import Progress
    from rich.table import Table

# (zone, cue, seconds): bottom-up, as facial protocols run.
TOUR = (
    ("neck", "Glide both probes up the side of the neck, never over the front.", 4.0),
    ("jawline", "Hold at the jaw angle and the chin; lift and hold.", 4.0),
    ("cheeks", "Lift the cheek toward the temple; hold.", 4.0),
    ("brows", "Lift the brow tail toward the hairline; hold.", 4.0),
    ("forehead", "Glide up the forehead from the brows.", 4.0),
)

_SPARK = " ▁▂▃▄▅▆▇█"


def _sparkline(values: list[float], full_scale: float) -> str:
    top = len(_SPARK) - 1
    return "".join(_SPARK[min(top, int(abs(v) / full_scale * top))] for v in values)


def demo(
    speed: Annotated[
        float, typer.Option("--speed", help="Run this many times faster than real time.")
    ] = 1.0,
) -> None:
    """A 20-second guided routine on a simulated output: cues, countdown, live current."""
    import numpy as np
    from rich.live import Live
    from rich.panel import Panel
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from microamp.safety import GuardLimits, OutputGuard, get_profile
    from microamp.stimulus import Envelope, Renderer, Waveform

    if not speed > 0:
        from microamp.cli.common import bad_input
        from microamp.errors import InvalidValue

        bad_input(InvalidValue("speed", speed, "must be greater than 0"))
    profile = get_profile("home")
    waveform = Waveform(shape="square", amplitude_ua=300, frequency_hz=10, polarity="alternating")
    rate_hz, block = 2000.0, 100
    renderer = Renderer(
        waveform,
        rate_hz,
        block_size=block,
        envelope=Envelope(ramp_up_s=1.0, ramp_down_s=0.5),
        max_slew_ua_s=profile.max_slew_ua_s.value,
    )
    guard = OutputGuard(GuardLimits.from_profile(profile), rate_hz)
    console.print(
        Panel(
            "A guided tour of microamp on a simulated output. Every block passes the home "
            "profile's limits and the output guard.\nmicroamp is not a cleared medical device "
            "and makes no claim of cosmetic effect.",
            title="microamp demo",
        )
    )
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeRemainingColumn(elapsed_when_finished=True),
    )
    total = progress.add_task("session", total=sum(s for _, _, s in TOUR))
    history: list[float] = []
    delivered_uc = 0.0
    with Live(console=console, refresh_per_second=12, transient=False) as live:
        for number, (zone, cue, seconds) in enumerate(TOUR, start=1):
            step = progress.add_task(f"step {number} {zone}", total=seconds)
            blocks = int(seconds * rate_hz / block)
            for _ in range(blocks):
                out = renderer.render()
                samples = guard.process(out.samples_ua, out.envelope_ua)
                delivered_uc += float(np.sum(np.abs(samples))) / rate_hz
                history.append(float(np.max(np.abs(samples))))
                progress.advance(step, block / rate_hz)
                progress.advance(total, block / rate_hz)
                view = Table.grid(padding=(0, 2))
                view.add_row("[b]Step[/]", f"{number}/{len(TOUR)}  {zone}")
                view.add_row("[b]Cue[/]", cue)
                view.add_row(
                    "[b]Current[/]", f"{history[-1]:6.1f} µA   {_sparkline(history[-40:], 400)}"
                )
                view.add_row("[b]Charge[/]", f"{delivered_uc:7.2f} µC delivered")
                live.update(_stack(view, progress))
                time.sleep(block / rate_hz / speed)
            if number == len(TOUR):
                renderer.ramp_down()
        console.bell()
    console.print(
        f"[green]Done.[/] {delivered_uc:.1f} µC delivered; guard tripped: {guard.tripped}. "
        "Next: [b]microamp waveform stats --help[/]"
    )


def _stack(view: Table, progress: Progress) -> Group:
    from rich.console import Group
    from rich.panel import Panel

    return Group(Panel.fit(view, title="microamp demo"), progress)
