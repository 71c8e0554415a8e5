"""`microamp clients`: add, list and show client records; sign consent; record clearances;
the safety history and lifting a flag (in `microamp.cli.client_history`).

Every command that reads or writes health data leaves an audit row naming the OS user."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import JsonOpt, audit_cli, bad_input, console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, StoreError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from microamp.store import Client

app = typer.Typer(help="Client records.", no_args_is_help=True)

ClientIdArg = Annotated[int, typer.Argument(help="Client id.", show_default=False)]
_ROMAN = ("I", "II", "III", "IV", "V", "VI")


def _date(raw: str, field: str) -> date:
    from microamp.clinic.intake import parse_date

    return parse_date(raw, field=field)


def _summary(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "full_name": client.full_name,
        "date_of_birth": client.date_of_birth.isoformat(),
        "email": client.email,
        "phone": client.phone,
        "skin_type": _ROMAN[client.fitzpatrick_type - 1] if client.fitzpatrick_type else None,
        "concerns": client.concerns,
        "preferred_weekdays": client.preferred_weekdays,
    }


@app.command()
def add(
    name: Annotated[str, typer.Option("--name", help="Full name.", show_default=False)],
    dob: Annotated[
        str, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.", show_default=False)
    ],
    email: Annotated[str | None, typer.Option("--email")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    skin_type: Annotated[
        str | None, typer.Option("--skin-type", help="Fitzpatrick type I-VI.")
    ] = None,
    concern: Annotated[
        list[str] | None, typer.Option("--concern", help="A concern; repeat for more.")
    ] = None,
    weekdays: Annotated[
        str | None, typer.Option("--weekdays", help="Preferred days, e.g. mon,thu.")
    ] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate", help="Add even when a client with the same details exists."
        ),
    ] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a client (refused when she may be on file already, unless --allow-duplicate)."""
    from microamp.store import create_client

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                if not allow_duplicate:
                    _refuse_duplicates(session, name, _date(dob, "dob"), email, phone)
                client = create_client(
                    session,
                    full_name=name,
                    date_of_birth=_date(dob, "dob"),
                    email=email,
                    phone=phone,
                    fitzpatrick_type=skin_type,
                    concerns=concern or [],
                    preferred_weekdays=weekdays.split(",") if weekdays else [],
                    today=date.today(),
                )
                document = _summary(client)
                audit_cli(session, "write", f"client:{client.id}", client_id=client.id,
                          change="created")  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
    if json_out:
        print_json(document)
    else:
        console.print(f"Added client {document['id']}: {document['full_name']}", highlight=False)


def _refuse_duplicates(
    session: Session, name: str, born: date, email: str | None, phone: str | None
) -> None:
    from microamp.store.client_records import possible_duplicates

    found = possible_duplicates(
        session, full_name=name, date_of_birth=born, email=email, phone=phone
    )
    if found:
        who = "; ".join(f"client {c.id} {c.full_name}, born {c.date_of_birth}" for c in found)
        raise InvalidValue(
            "name",
            name,
            f"may be on file already ({who}): add with --allow-duplicate, or edit that record",
        )


@app.command("list")
def list_(
    search: Annotated[str | None, typer.Option("--search", help="Part of a name.")] = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List clients by name."""
    from rich.table import Table

    from microamp.store import list_clients

    with open_cli_store(database) as store, store.session() as session:
        rows = [_summary(c) for c in list_clients(session, search=search, limit=1000)]
    if json_out:
        print_json({"clients": rows})
        return
    table = Table("id", "name", "born", "skin type", "email")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["full_name"],
            row["date_of_birth"],
            row["skin_type"] or "",
            row["email"] or "",
        )
    console.print(table)


def client_document(session: Session, client_id: int, today: date) -> dict[str, Any]:
    """Everything on file for one client, and whether a session may start today."""
    from microamp.store import (
        checkin_due,
        gate_client,
        get_client,
        latest_screening,
        list_session_records,
        unlifted_flags,
    )
    from microamp.store.history import flag_dict

    client = get_client(session, client_id=client_id)
    screening = latest_screening(session, client_id=client_id)
    return {
        **_summary(client),
        "notes": client.notes,
        "allergies": client.allergies,
        "medications": client.medications,
        "archived": client.archived_at is not None,
        "merged_into": client.merged_into_id,
        "screening": screening.to_dict() if screening else None,
        "flags": [flag_dict(f) for f in unlifted_flags(session, client_id=client_id)],
        "consents": [
            {
                "text_version": c.text_version,
                "typed_signature": c.typed_signature,
                "signed_at": c.signed_at.isoformat(),
            }
            for c in client.consents
        ],
        "clearances": [
            {
                "physician_name": c.physician_name,
                "rule_ids": c.rule_ids,
                "issued_on": c.issued_on.isoformat(),
                "valid_until": c.valid_until.isoformat() if c.valid_until else None,
            }
            for c in client.clearances
        ],
        "sessions": [
            {
                "id": r.id,
                "status": r.status,
                "protocol": r.protocol_name,
                "started_at": r.started_at.isoformat(),
            }
            for r in list_session_records(session, client_id=client_id)
        ],
        "gate_today": gate_client(session, client_id=client_id, on=today).to_dict(),
        "progress_checkin_due": checkin_due(session, client_id=client_id),
    }


@app.command()
def show(client_id: ClientIdArg, database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """A client's record: screening, consents, clearances, sessions, and today's gate."""
    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                document = client_document(session, client_id, date.today())
                audit_cli(session, "read", f"client:{client_id}", client_id=client_id,
                          view="clients show")  # fmt: skip
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(document)
        return
    _render(document)


def _render(document: dict[str, Any]) -> None:
    console.print(
        f"[bold]{document['full_name']}[/] (client {document['id']}), born {document['date_of_birth']}",
        highlight=False,
    )
    if document["skin_type"]:
        console.print(f"Fitzpatrick skin type {document['skin_type']}")
    screening = document["screening"]
    if screening:
        console.print(f"Screening {screening['screened_on']}: {screening['outcome']}")
        for reason in screening["reasons"]:
            console.print(f"  - {reason['rule_id']}: {reason['message']}", highlight=False)
    else:
        console.print("No screening on file.")
    for flag in document["flags"]:
        console.print(
            f"[red]Flag[/] {flag['rule_id']} ({flag['outcome']}, since {flag['raised_on']}): "
            f"{flag['message']}",
            highlight=False,
        )
    console.print(
        f"Consents: {len(document['consents'])}; clearances: {len(document['clearances'])}"
    )
    gate = document["gate_today"]
    if gate["allowed"]:
        avoid = ", ".join(gate["avoid_zones"]) or "none"
        console.print(f"[green]A session may start today[/] (zones to avoid: {avoid}).")
    else:
        console.print("[red]No session today:[/]")
        for refusal in gate["refusals"]:
            console.print(f"  - {refusal['message']}", highlight=False)
    for record in document["sessions"]:
        console.print(
            f"Session {record['id']}: {record['protocol']} {record['status']} {record['started_at']}",
            highlight=False,
        )
    if document["progress_checkin_due"]:
        console.print("[yellow]A progress check-in is due.[/]")


@app.command()
def consent(
    client_id: ClientIdArg,
    signature: Annotated[
        str,
        typer.Option(
            "--signature", help="The client's full name, typed by the client.", show_default=False
        ),
    ],
    show_text: Annotated[
        bool, typer.Option("--show-text", help="Print the consent text first.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Record the client's consent to the current consent text."""
    from microamp.clinic.consent import consent_text
    from microamp.store import record_consent

    text = consent_text()
    if show_text:
        console.print(
            f"[bold]{text.title}[/] (version {text.version})\n\n{text.text}\n", highlight=False
        )
    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                row = record_consent(session, client_id=client_id, typed_signature=signature)
                audit_cli(session, "write", f"client:{client_id}/consent", client_id=client_id,
                          version=row.text_version)  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    console.print(f"Consent version {text.version} recorded for client {client_id}.")


@app.command()
def clearance(
    client_id: ClientIdArg,
    physician: Annotated[
        str, typer.Option("--physician", help="Physician's name.", show_default=False)
    ],
    issued: Annotated[
        str,
        typer.Option(
            "--issued", help="Date issued, YYYY-MM-DD, today or earlier.", show_default=False
        ),
    ],
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Screening rule cleared (default: all).")
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="Last valid day, YYYY-MM-DD.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Record a physician's clearance."""
    from microamp.store import record_clearance

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                row = record_clearance(
                    session,
                    client_id=client_id,
                    physician_name=physician,
                    issued_on=_date(issued, "issued"),
                    today=date.today(),
                    valid_until=_date(valid_until, "valid_until") if valid_until else None,
                    rule_ids=rule or [],
                )
                audit_cli(session, "write", f"client:{client_id}/clearance",
                          client_id=client_id, clearance_id=row.id)  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    console.print(f"Clearance by {physician} recorded for client {client_id}.", highlight=False)


def _register_history_commands() -> None:
    from microamp.cli.client_erasure import erase
    from microamp.cli.client_history import answers, history, lift
    from microamp.cli.client_records import archive, edit, merge, search

    app.command()(history)
    app.command()(lift)
    app.command()(answers)
    for command in (edit, archive, merge, search, erase):
        app.command()(command)


_register_history_commands()
