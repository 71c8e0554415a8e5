"""`microamp screen`: intake answers in, screening outcome out (exit 0 whatever the outcome)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import JsonOpt, bad_input, console, print_json
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
        str | None, typer.Option("--on", help="Screening date, YYYY-MM-DD (default: today).")
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
    from microamp.clinic.intake import parse_date
    from microamp.clinic.screening import screen as run_screening

    try:
        day = parse_date(on, field="on") if on is not None else date.today()
        data = read_answers(answers)
        result = run_screening(data, on=day, procedure_wait_days=wait_days)
        if client is not None:
            _keep(client, result, database)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    document = result.to_dict()
    if json_out:
        print_json(document)
        return
    _render(document)


def _keep(client_id: int, result: ScreeningResult, database: str | None) -> None:
    from microamp.store import save_screening

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                save_screening(session, client_id=client_id, result=result)
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
