"""`microamp home`: the home companion for one household, on uvicorn.

On a database without a home account the first visit creates it (`/welcome`). The port is
taken before anything is printed, so a port in use is one line and exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from microamp.cli.common import bad_input, console, print_error
from microamp.cli.db import DatabaseOpt, store_failed
from microamp.errors import InvalidValue, StoreError


def home(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8010,
    database: DatabaseOpt = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the secret key lives.")
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            help="Device mode: a device microamp drives (sim:// for a "
            "demo), run by a station in this process.",
        ),  # fmt: skip
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option("--session-speed", help="Simulated sessions run this many times faster."),
    ] = None,
) -> None:
    """Serve the home companion: guided routines on a phone for any device, with cues, your
    regimen and streaks. Works offline after the first visit. Migrates the database first."""
    import uvicorn

    from microamp.cli.serve import _listen
    from microamp.store.home import home_account
    from microamp.web import WebSettings
    from microamp.web.app import open_web_store
    from microamp.web.home import create_home_app

    overrides: dict[str, object] = {"embedded_station": False}
    for key, value in (("database_url", database), ("data_dir", data_dir),
                       ("device_url", device), ("session_speed", speed)):  # fmt: skip
        if value is not None:
            overrides[key] = value
    try:
        settings = WebSettings(**overrides)  # type: ignore[arg-type]
        store = open_web_store(settings)
        app = create_home_app(settings, store=store, device=device is not None)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    except StoreError as exc:
        store_failed(exc)
    except ValueError as exc:
        print_error(exc)
        raise typer.Exit(2) from None
    try:
        listening = _listen(host, port)
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        console.print(f"microamp home: [bold]http://{shown}:{port}/[/]  (database {store.url})",
                      soft_wrap=True)  # fmt: skip
        with store.transaction() as session:
            first_run = home_account(session) is None
        if device is not None:
            console.print(f"Device mode on {settings.device_url} (a station in this process).")
        if first_run:
            console.print("No home account yet: open the link on your phone to create it.")
        console.print("microamp is not a cleared medical device. Press Ctrl+C to stop.")
        config = uvicorn.Config(app, log_level="info",
                                proxy_headers=False)  # fmt: skip
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        store.close()
