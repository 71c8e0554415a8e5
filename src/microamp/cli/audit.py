"""`microamp audit verify` and `microamp audit checkpoint`: check the keyed audit chain against
the signed checkpoints kept outside the database, and add a checkpoint."""

from __future__ import annotations

from typing import Any

import typer

from microamp.cli.common import EXIT_FAILED, JsonOpt, console, err_console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store

app = typer.Typer(
    help="The audit log of every read and write of health data.", no_args_is_help=True
)


@app.command()
def verify(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Recompute every row's seal and link and compare the head with the latest signed
    checkpoint: exit 0 when intact, 1 naming what is broken."""
    from microamp.store.audit_checkpoints import verify_with_checkpoints

    with open_cli_store(database, recover=False) as store, store.session() as session:
        report = verify_with_checkpoints(session, store.settings.audit_checkpoints_path)
    verdict = report.chain
    if json_out:
        document: dict[str, Any] = {
            "intact": report.intact,
            "rows": verdict.rows,
            "broken_seq": verdict.broken_seq,
            "reason": verdict.reason or report.problem,
            "legacy_rows": verdict.legacy_rows,
            "checkpoints": report.checkpoints,
        }
        print_json(document)
    elif report.intact:
        console.print(f"audit log intact: {verdict.rows} rows{_extra(report)}")
    elif not verdict.intact:
        err_console.print(
            f"[bold red]audit log broken[/] at row {verdict.broken_seq}: {verdict.reason}",
            highlight=False,
        )
    else:
        err_console.print(f"[bold red]audit log broken[/]: {report.problem}", highlight=False)
    if not report.intact:
        raise typer.Exit(EXIT_FAILED)


def _extra(report: Any) -> str:
    notes = []
    if report.chain.legacy_rows:
        notes.append(f"{report.chain.legacy_rows} from before the audit key")
    notes.append(
        f"{report.checkpoints} checkpoints" if report.checkpoints else "no checkpoints yet"
    )
    return " (" + ", ".join(notes) + ")"


@app.command()
def checkpoint(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Append the chain head, signed with the audit key, to the checkpoint file (exit 1 when the
    chain is already broken: a checkpoint would vouch for it)."""
    from microamp.store.audit_checkpoints import write_checkpoint

    with open_cli_store(database, recover=False) as store, store.session() as session:
        path = store.settings.audit_checkpoints_path
        try:
            point = write_checkpoint(session, path)
        except ValueError as exc:
            err_console.print(f"[bold red]{exc}[/]", highlight=False)
            raise typer.Exit(EXIT_FAILED) from None
    if json_out:
        print_json({**point.body(), "sig": point.sig, "file": str(path)})
        return
    console.print(
        f"checkpoint at row {point.seq} ({point.rows} rows) written to {path}", highlight=False
    )
