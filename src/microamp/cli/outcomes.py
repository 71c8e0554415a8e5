"""`microamp outcomes CLIENT`: each measure of a client's photos over time beside the charge
delivered by zone and the sessions attended, with the measurement error."""

from __future__ import annotations

from typing import Annotated

import typer

from microamp.cli.common import JsonOpt, audit_cli, bad_input, console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, StoreError


def outcomes(
    client_id: Annotated[
        int, typer.Argument(metavar="CLIENT", help="Client id.", show_default=False)
    ],
    view: Annotated[str, typer.Option("--view", help="front, left45 or right45.")] = "front",
    csv_out: Annotated[bool, typer.Option("--csv", help="One CSV row per photo.")] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Measured results beside dose: baseline, latest, change and error per measure."""
    from microamp.store.outcomes import client_outcomes, outcomes_csv

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                found = client_outcomes(session, client_id=client_id, view=view)
                audit_cli(session, "read", f"client:{client_id}/outcomes", client_id=client_id)
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(found.as_dict())
        return
    if csv_out:
        typer.echo(outcomes_csv(found), nl=False)
        return
    _render(found)


def _render(found: object) -> None:
    from rich.table import Table

    from microamp.store.outcomes import Outcomes

    assert isinstance(found, Outcomes)
    attended = len(found.sessions)
    comparable = sum(1 for p in found.photos if p.comparable)
    console.print(
        f"client {found.client_id}, {found.view} view: {len(found.photos)} measured photo(s), "
        f"{comparable} comparable; {attended} session(s) attended",
        highlight=False,
    )
    console.print(f"error from {found.error_source}", highlight=False)
    table = Table()
    for column in ("measure", "first", "latest", "change", "verdict"):
        table.add_column(column)
    for trend in found.trends:
        table.add_row(
            trend.name,
            "" if trend.baseline is None else f"{trend.baseline:g}",
            "" if trend.latest is None else f"{trend.latest:g}",
            "" if trend.change is None else f"{trend.change:+g}",
            trend.verdict,
        )
    console.print(table)
