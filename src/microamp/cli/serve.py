"""`microamp serve`: the clinic web app on uvicorn.

The port is taken before anything is printed, so a port in use is one line and exit 1. On a
database without users (and without ``--demo``) it prints a one-time setup link instead of a
sign-in, the only way to create the clinic's first owner from the browser.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Annotated

import typer

from microamp.cli.common import EXIT_FAILED, bad_input, console, print_error
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
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Web worker processes. With more than one, no station runs here: "
            "start `microamp station` beside each device.",
        ),
    ] = 1,
) -> None:
    """Serve the clinic web app (pages and the JSON API under /api/v1). Migrates the database
    to the newest revision first. One worker runs the station of --device in its process (the
    embedded default); several share the database and run no station."""
    import uvicorn

    from microamp.web import WebSettings, create_app
    from microamp.web.app import open_web_store

    overrides: dict[str, object] = {}
    for key, value in (
        ("database_url", database),
        ("device_url", device),
        ("session_speed", speed),
        ("data_dir", data_dir),
        ("embedded_station", False if workers > 1 else None),
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
    if workers > 1:
        _serve_workers(settings, store, host=host, port=port, workers=workers, demo=demo)
        return
    try:
        listening = _listen(host, port)
        _announce(settings, store, host, port, demo)
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; the app decides instead, from
        # MICROAMP_TRUSTED_PROXIES (microamp.web.addresses)
        config = uvicorn.Config(
            create_app(settings, store=store), log_level="info", proxy_headers=False
        )
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        store.close()


def _serve_workers(
    settings: object, store: object, *, host: str, port: int, workers: int, demo: bool
) -> None:
    """``workers`` uvicorn processes of the app on one port, its settings passed to each in the
    environment (``MICROAMP_*``); the store migrated here, once, before any of them starts."""
    import os

    import uvicorn

    from microamp.store.db import Store
    from microamp.web import WebSettings

    assert isinstance(settings, WebSettings) and isinstance(store, Store)
    try:
        _listen(host, port).close()  # a port in use is one line here, not a worker's traceback
        _announce(settings, store, host, port, demo)
        console.print(f"{workers} workers, no station here: run `microamp station --device URL "
                      f'--name "Room 2"` beside each device, on this database.')  # fmt: skip
    finally:
        store.close()
    os.environ.update(_worker_environment(settings))
    uvicorn.run("microamp.web.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="info", proxy_headers=False)  # fmt: skip


def _worker_environment(settings: object) -> dict[str, str]:
    from microamp.web import WebSettings

    assert isinstance(settings, WebSettings)
    # the secret key is not passed: every worker reads the same one (settings or the database)
    env = {
        "MICROAMP_DATA_DIR": str(settings.data_dir),
        "MICROAMP_DEVICE_URL": settings.device_url,
        "MICROAMP_SESSION_SPEED": repr(settings.session_speed),
        "MICROAMP_EMBEDDED_STATION": "false",
    }
    if settings.database_url is not None:
        env["MICROAMP_DATABASE_URL"] = settings.database_url
    return env


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or one line saying why not and exit 1."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        print_error(f"--host: cannot listen on {host!r}: {exc.strerror}")
        raise typer.Exit(EXIT_FAILED) from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        print_error(_bind_problem(host, port, exc))
        raise typer.Exit(EXIT_FAILED) from None
    return sock


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    choose = "choose another with --port (make run PORT=8001)"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use: {choose}"
    if exc.errno == errno.EACCES:
        return f"port {port} on {host} needs more privileges: {choose} above 1023"
    return f"cannot listen on {host} port {port}: {exc.strerror}"


def _announce(settings: object, store: object, host: str, port: int, demo: bool) -> None:
    from microamp.store.db import Store
    from microamp.web import WebSettings
    from microamp.web.demo import seed_demo

    assert isinstance(settings, WebSettings) and isinstance(store, Store)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    console.print(
        f"microamp clinic: [bold]http://{shown}:{port}/[/]  (database {store.url})", soft_wrap=True
    )
    if demo:
        console.print("Creating the demo data on first run (a past session is simulated)…")
        login = seed_demo(store, settings)
        if login.password:
            console.print(f"Sign in as {login.emails[0]} with password [bold]{login.password}[/]")
            console.print(f"(also {', '.join(login.emails[1:])}, same password)")
        else:
            console.print("The database already had users: sign in with yours.")
    else:
        _offer_setup(store, f"http://{shown}:{port}")
    console.print("microamp is not a cleared medical device. Press Ctrl+C to stop.")


def _offer_setup(store: object, base_url: str) -> None:
    """On a clinic without users, print a one-time link to create the owner."""
    from microamp.store.base import utc_now
    from microamp.store.clinic_setup import clinic_has_users, issue_setup_token
    from microamp.store.db import Store

    assert isinstance(store, Store)
    with store.transaction() as session:
        if clinic_has_users(session):
            return
        issued = issue_setup_token(session, now=utc_now())
    until = issued.expires_at.strftime("%H:%M UTC")
    console.print("This clinic has no users yet. Create its owner with this one-time link")
    console.print(f"(it works once, until {until}; restart for a new one):")
    console.print(f"[bold]{base_url}/setup/{issued.token}[/]", soft_wrap=True, highlight=False)
