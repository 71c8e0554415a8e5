"""`microamp screen`: intake answers in, screening outcome out (exit 0 whatever the outcome).

With ``--client`` the answers are kept as a new version of the client's intake (the previous
versions stay), the output lists what changed against the previous version, and the write is
audited. ``microamp clients answers ID`` prints the latest answers to start a re-screen from.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import JsonOpt, audit_cli, bad_input, console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, StoreError

if TYPE_CHECKING:
    from microamp.clinic.screening import ScreeningResult

_STYLE = {
    "cleared": "green",
    "caution": "yellow",
    "deferred": "yellow",
    "clearance_required": "red",
    "contraindicated": "bold red",
}


def read_answers(path: Path) -> Any:
    """The JSON document in ``path``; `InvalidValue` when unreadable or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidValue("ANSWERS", str(path), f"cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidValue("ANSWERS", str(path), f"is not valid JSON: {exc}") from None


def screen(
    answers: Annotated[
        Path, typer.Argument(help="Intake answers, a JSON file.", show_default=False)
    ],
    on: Annotated[
        str | None,
        typer.Option("--on", help="Screening date, YYYY-MM-DD, today or earlier (default: today)."),
    ] = None,
    wait_days: Annotated[
        int | None,
        typer.Option(
            "--wait-days",
            help="Days to wait after injectables or a facial procedure (rules default: 14).",
        ),
    ] = None,
    client: Annotated[
        int | None, typer.Option("--client", help="Keep the intake form on this client's record.")
    ] = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Screen intake answers against the contraindication rules."""
    from microamp.clinic.dates import not_in_future
    from microamp.clinic.intake import parse_date
    from microamp.clinic.screening import screen as run_screening

    today = date.today()
    try:
        day = parse_date(on, field="on") if on is not None else today
        not_in_future("on", day, today=today)
        data = read_answers(answers)
        result = run_screening(data, on=day, procedure_wait_days=wait_days)
        document = result.to_dict()
        if client is not None:
            document |= _keep(client, result, database, today=today)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    if json_out:
        print_json(document)
        return
    _render(document)


def _keep(
    client_id: int, result: ScreeningResult, database: str | None, *, today: date
) -> dict[str, Any]:
    """Keep the screening on the client; the new version's number, changes and flags."""
    from microamp.clinic.history import answer_changes
    from microamp.store import latest_form, save_screening, unlifted_flags

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                previous = latest_form(session, client_id=client_id)
                form = save_screening(session, client_id=client_id, result=result, today=today)
                changes = answer_changes(previous.answers if previous else None, form.answers)
                flags = unlifted_flags(session, client_id=client_id)
                audit_cli(session, "write", f"client:{client_id}/intake", client_id=client_id,
                          intake_id=form.id, outcome=form.outcome)  # fmt: skip
                return {
                    "client_id": client_id,
                    "intake_id": form.id,
                    "changes": [change.to_dict() for change in changes],
                    "flags_up": [flag.rule_id for flag in flags],
                }
        except StoreError as exc:
            store_failed(exc)


def _render(document: dict[str, Any]) -> None:
    outcome = document["outcome"]
    console.print(f"Outcome: [{_STYLE[outcome]}]{outcome}[/]  (rules {document['rules_version']})")
    for reason in document["reasons"]:
        console.print(
            f"  - [{_STYLE[reason['outcome']]}]{reason['outcome']}[/] {reason['rule_id']}: {reason['message']}",
            highlight=False,
        )
    if document["avoid_zones"]:
        console.print(f"Zones to avoid: {', '.join(document['avoid_zones'])}")
    if document["deferred_until"]:
        console.print(f"Deferred until {document['deferred_until']}")
    if "intake_id" not in document:
        return
    console.print(f"Kept as intake {document['intake_id']} of client {document['client_id']}.")
    for change in document["changes"]:
        console.print(f"  changed {change['question']}: was {change['was']}, now {change['now']}",
                      highlight=False)  # fmt: skip
    if document["flags_up"]:
        console.print(
            f"[red]Safety flags on the record:[/] {', '.join(document['flags_up'])} "
            "(lifted only with: microamp clients lift)",
            highlight=False,
        )
