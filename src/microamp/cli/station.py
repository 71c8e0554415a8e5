"""`microamp station`: the one process that opens a device, beside it in its treatment room.

It registers the device in the store under its name, beats, and runs the sessions that any web
worker asks it for through the store, answering every control. Ctrl+C (or SIGTERM) stops its
sessions (output zero first) and takes it offline.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from microamp.cli.common import EXIT_FAILED, bad_input, console, print_error
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import DeviceError, InvalidValue, StoreError

# Wall seconds between checks that the station still runs, while waiting for a signal.
_CHECK_S = 0.5


def station(
    device: Annotated[
        str, typer.Option("--device", help="The device this station owns (sim://?load=gel, ...).")
    ],
    name: Annotated[
        str, typer.Option("--name", help='The station\'s name in the console, e.g. "Room 2".')
    ],
    database: DatabaseOpt = None,
    speed: Annotated[
        float,
        typer.Option(
            "--session-speed",
            help="Simulated sessions run this many times faster.",
            min=0.001,
            max=1000,
        ),
    ] = 1.0,
) -> None:
    """Own one device: run the sessions the web app starts on it, answer every control.
    Migrates the database to the newest revision first."""
    from microamp.station import Station

    store = open_cli_store(database, upgrade=True)
    try:
        try:
            owner = Station(store, name=name, device_url=device, speed=speed)
            owner.start()
        except InvalidValue as exc:
            bad_input(exc, as_option=False)
        except DeviceError as exc:
            print_error(f"--device: {exc}")
            raise typer.Exit(EXIT_FAILED) from None
        except StoreError as exc:
            store_failed(exc)
        console.print(f"station [bold]{name}[/]: {device}  (database {store.url})", soft_wrap=True)
        console.print("microamp is not a cleared medical device. Press Ctrl+C to stop.")
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _sig, _frame: stopping.set())
        while not stopping.wait(_CHECK_S) and not owner.wait(0):
            pass
        owner.stop()
        if owner.lost:
            print_error(f"another station took the name {name}")
            raise typer.Exit(EXIT_FAILED)
    finally:
        store.close()
