"""`microamp audit verify`: check that the audit log's hash chain is intact."""

from __future__ import annotations

import typer

from microamp.cli.common import EXIT_FAILED, JsonOpt, console, err_console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store

app = typer.Typer(
    help="The audit log of every read and write of health data.", no_args_is_help=True
)


@app.command()
def verify(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Recompute every row's hash and link: exit 0 when intact, 1 naming the first broken row."""
    from microamp.store.access import verify_audit_chain

    with open_cli_store(database, recover=False) as store, store.session() as session:
        verdict = verify_audit_chain(session)
    if json_out:
        print_json(
            {
                "intact": verdict.intact,
                "rows": verdict.rows,
                "broken_seq": verdict.broken_seq,
                "reason": verdict.reason,
            }  # fmt: skip
        )
    elif verdict.intact:
        console.print(f"audit log intact: {verdict.rows} rows")
    else:
        err_console.print(
            f"[bold red]audit log broken[/] at row {verdict.broken_seq}: {verdict.reason}",
            highlight=False,
        )
    if not verdict.intact:
        raise typer.Exit(EXIT_FAILED)
