"""`microamp db`: create or bring the record store up to date; shared store options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    JsonOpt,
    bad_input,
    console,
    print_error,
    print_json,
)
from microamp.errors import InvalidValue, NotFound, StoreError

if TYPE_CHECKING:
    from microamp.store import Store

app = typer.Typer(
    help="The record store (SQLite by default, PostgreSQL by URL).", no_args_is_help=True
)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB); "
        "default: MICROAMP_DATABASE_URL, then a SQLite file in the user's data directory.",
    ),
]


def store_failed(exc: StoreError) -> NoReturn:
    """Report a store refusal on one line; exit 2 for an id that names no record, else 1."""
    print_error(exc)
    raise typer.Exit(EXIT_BAD_INPUT if isinstance(exc, NotFound) else EXIT_FAILED)


def open_cli_store(database: str | None, *, upgrade: bool = False, recover: bool = True) -> Store:
    """Open the store for a command: bad URL -> exit 2, store refusal -> exit 1."""
    from microamp.store import open_store

    try:
        return open_store(database, upgrade=upgrade, recover=recover)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    except StoreError as exc:
        store_failed(exc)


@app.command()
def upgrade(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Create the database or migrate it to the newest revision; close orphaned sessions."""
    from microamp.store import current_revision, recover_interrupted

    with open_cli_store(database, upgrade=True, recover=False) as store:
        with store.transaction() as session:
            recovered = recover_interrupted(session, stale_after_s=store.settings.stale_after_s)
        revision = current_revision(store.engine)
        document = {"database": store.url, "revision": revision, "interrupted": recovered}
    if json_out:
        print_json(document)
        return
    console.print(f"Database {document['database']} is at revision {revision}.", highlight=False)
    if recovered:
        ids = ", ".join(str(i) for i in recovered)
        console.print(f"Marked interrupted (their recording process had ended): {ids}.")


@app.command("forget-secret-key")
def forget_secret_key(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Forget the web workers' signing key (kept in the database, or its fingerprint), so the
    next worker to start sets a new one. Stop every worker first; everybody is signed out."""
    from microamp.store.signing_key import forget_signing_key

    with open_cli_store(database, recover=False) as store:
        with store.transaction() as session:
            forgotten = forget_signing_key(session)
        document = {"database": store.url, "forgotten": forgotten}
    if json_out:
        print_json(document)
        return
    if forgotten:
        console.print("Forgotten: the next web worker to start sets the key.", highlight=False)
    else:
        console.print("No key was kept: nothing to forget.", highlight=False)
