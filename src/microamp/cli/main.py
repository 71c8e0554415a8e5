"""The `microamp` command: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from microamp import __version__
from microamp.cli import audit as audit_cli
from microamp.cli import (
    care,
    clients,
    db,
    demo,
    doctor,
    export,
    home,
    limits,
    outcomes,
    photos,
    plan,
    records,
    screen,
    waveform,
)
from microamp.cli import mail as mail_cli
from microamp.cli import serve as serve_cli
from microamp.cli import station as station_cli
from microamp.cli import users as users_cli
from microamp.cli.characterize import characterize
from microamp.cli.common import bad_input
from microamp.cli.devices import app as devices_app
from microamp.cli.evidence import evidence
from microamp.cli.firmware import firmware_emulator
from microamp.cli.protocols import app as protocols_app
from microamp.cli.render import render
from microamp.cli.run import run as run_command
from microamp.cli.stimulate import stimulate
from microamp.errors import InvalidValue

app = typer.Typer(
    name="microamp",
    help="microamp: an open microcurrent facial system (not a cleared medical device).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(waveform.app, name="waveform")
app.add_typer(limits.app, name="limits")
app.command(name="demo")(demo.demo)
app.add_typer(protocols_app, name="protocols")
app.command(name="run")(run_command)
app.add_typer(db.app, name="db")
app.command(name="serve")(serve_cli.serve)
app.command(name="station")(station_cli.station)
app.command(name="home")(home.home)
app.add_typer(users_cli.app, name="users")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(clients.app, name="clients")
app.add_typer(records.app, name="records")
app.add_typer(photos.app, name="photos")
app.add_typer(export.app, name="export")
app.command(name="outcomes")(outcomes.outcomes)
app.command(name="screen")(screen.screen)
app.command(name="plan")(plan.plan)
app.add_typer(care.app, name="care")
app.add_typer(mail_cli.app, name="mail")
app.add_typer(devices_app, name="devices")
app.command(name="stimulate")(stimulate)
app.command(name="render")(render)
app.command(name="characterize")(characterize)
app.command(name="evidence")(evidence)
app.command(name="firmware-emulator")(firmware_emulator)
app.command(name="doctor")(doctor.doctor)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"microamp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """microamp: waveforms, safety limits, devices, guided sessions and clinic records."""


def main() -> None:
    try:
        app()
    except InvalidValue as exc:  # a last net: bad input never ends in a traceback
        try:
            bad_input(exc)
        except typer.Exit as exit_:
            raise SystemExit(exit_.exit_code) from None


if __name__ == "__main__":
    main()
