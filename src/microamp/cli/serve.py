"""`microamp serve`: the clinic web app on uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from microamp.cli.common import bad_input, console, print_error
from microamp.cli.db import DatabaseOpt, store_failed
from microamp.errors import InvalidValue, StoreError


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
    database: DatabaseOpt = None,
    device: Annotated[
        str | None, typer.Option("--device", help="Device URL (default sim://?load=gel).")
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option("--session-speed", help="Simulated sessions run this many times faster."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the secret key and photos live.")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="On an empty database, create demo staff and clients.")
    ] = False,
) -> None:
    """Serve the clinic web app (pages and the JSON API under /api/v1). Migrates the database
    to the newest revision first."""
    import uvicorn

    from microamp.web import WebSettings, create_app
    from microamp.web.app import open_web_store

    overrides: dict[str, object] = {}
    for key, value in (
        ("database_url", database),
        ("device_url", device),
        ("session_speed", speed),
        ("data_dir", data_dir),
    ):
        if value is not None:
            overrides[key] = value
    try:
        settings = WebSettings(**overrides)  # type: ignore[arg-type]
        store = open_web_store(settings)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    except StoreError as exc:
        store_failed(exc)
    except ValueError as exc:  # pydantic's ValidationError: a setting out of range
        print_error(exc)
        raise typer.Exit(2) from None
    try:
        _announce(settings, store, host, port, demo)
        uvicorn.run(create_app(settings, store=store), host=host, port=port, log_level="info")
    finally:
        store.close()


def _announce(settings: object, store: object, host: str, port: int, demo: bool) -> None:
    from microamp.store.db import Store
    from microamp.web import WebSettings
    from microamp.web.demo import seed_demo

    assert isinstance(settings, WebSettings) and isinstance(store, Store)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    console.print(f"microamp clinic: [bold]http://{shown}:{port}/[/]  (database {store.url})")
    if demo:
        console.print("Creating the demo data on first run (a past session is simulated)…")
        login = seed_demo(store, settings)
        if login.password:
            console.print(f"Sign in as {login.emails[0]} with password [bold]{login.password}[/]")
            console.print(f"(also {', '.join(login.emails[1:])}, same password)")
        else:
            console.print("The database already had users: sign in with yours.")
    console.print("microamp is not a cleared medical device. Press Ctrl+C to stop.")
