"""`microamp firmware-emulator`: serve the serial protocol on a pseudo-terminal until stopped."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from microamp.cli.common import bad_input
from microamp.errors import InvalidValue


def firmware_emulator(
    log: Annotated[
        Path | None, typer.Option("--log", help="Write a JSON-lines event log to FILE.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Keep the soft upper limit in FILE across restarts."),
    ] = None,
    sim: Annotated[
        str, typer.Option("--sim", help="The physics and injected faults, as a sim:// URL.")
    ] = "sim://?load=gel",
) -> None:
    """Emulate stimulator firmware on a pseudo-terminal; print its path first, serve until stopped.

    Connect with `microamp devices probe serial://PATH`. SIGINT or SIGTERM zeroes output and exits.
    """
    from microamp.devices.emulator import FirmwareEmulator

    log_file = None
    try:
        log_file = log.open("a", encoding="utf-8") if log is not None else None
    except OSError as exc:
        bad_input(InvalidValue("log", str(log), f"cannot be written: {exc.strerror}"))
    try:
        emulator = FirmwareEmulator(sim, log=log_file, state_path=state)
    except InvalidValue as exc:
        bad_input(exc)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        emulator.stop()  # only a flag: the loop winds down and zeroes output itself

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    sys.stdout.write(emulator.path + "\n")
    sys.stdout.flush()
    try:
        emulator.serve()
    finally:
        emulator.close()
        if log_file is not None:
            log_file.close()
