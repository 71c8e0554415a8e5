"""`microamp records`: treatment-session records, as written from what the device delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    JsonOpt,
    audit_cli,
    console,
    print_error,
    print_json,
)
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import StoreError

app = typer.Typer(help="Treatment-session records.", no_args_is_help=True)


@app.command()
def show(
    record_id: Annotated[
        int, typer.Argument(metavar="ID", help="Session record id.", show_default=False)
    ],
    telemetry: Annotated[
        bool, typer.Option("--telemetry", help="Include the stored telemetry rows.")
    ] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One session record: protocol, device, status, dose by zone, events, feedback."""
    from microamp.clinic.booking import clinic_zone
    from microamp.store import session_record_dict
    from microamp.store.book_setup import get_settings

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                document = session_record_dict(
                    session, session_id=record_id, include_telemetry=telemetry
                )
                audit_cli(session, "read", f"record:{record_id}",
                          client_id=document.get("client_id"))  # fmt: skip
                zone = clinic_zone(get_settings(session).time_zone)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(document)
        return
    _render(document)
    _render_steps(document["service_steps"], zone)


@app.command("list")
def list_(
    client: Annotated[
        int | None, typer.Option("--client", help="Only this client's sessions.")
    ] = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The most recent session records."""
    from rich.table import Table

    from microamp.store import list_session_records

    with open_cli_store(database) as store, store.transaction() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "client_id": r.client_id,
                "protocol": r.protocol_name,
                "status": r.status,
                "started_at": r.started_at.isoformat(),
            }
            for r in list_session_records(session, client_id=client)
        ]
        audit_cli(session, "read", f"client:{client}/records" if client else "records",
                  client_id=client, rows=len(rows))  # fmt: skip
    if json_out:
        print_json({"records": rows})
        return
    table = Table("id", "client", "protocol", "status", "started")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["client_id"] or "-"),
            row["protocol"],
            row["status"],
            row["started_at"],
        )
    console.print(table)


@app.command("hand-over")
def hand_over_(
    record_id: Annotated[
        int, typer.Argument(metavar="ID", help="Session record id.", show_default=False)
    ],
    database: DatabaseOpt = None,
) -> None:
    """Write what a session on this machine kept in its journal while the store was out of
    reach (a station hands its own over by itself)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from microamp.store.journal import Journal, hand_over, journal_path
    from microamp.store.session_models import TreatmentSession

    # no recovery on opening: it would close the record as interrupted (its lease lapsed while
    # the store was out of reach) before the journal gives it its own end
    with open_cli_store(database, recover=False) as store:
        path = journal_path(store, record_id)
        if not Journal(path).pending:
            print_error(f"record {record_id}: no journal waits in {path.parent} "
                        "(only a session run on this data directory leaves one)")  # fmt: skip
            raise typer.Exit(EXIT_BAD_INPUT)
        try:
            writes = hand_over(store, path)
        except (OperationalError, InterfaceError) as exc:
            print_error(f"the store is still out of reach ({type(exc).__name__}); "
                        f"the journal waits in {path}")  # fmt: skip
            raise typer.Exit(EXIT_FAILED) from None
        with store.transaction() as session:
            record = session.get(TreatmentSession, record_id)
            client_id = record.client_id if record is not None else None
            audit_cli(session, "write", f"record:{record_id}/journal", client_id=client_id,
                      writes=writes)  # fmt: skip
    console.print(f"Record {record_id}: {writes} journaled writes handed over to the store.")


def _render(document: dict[str, Any]) -> None:
    protocol = document["protocol"]
    console.print(
        f"[bold]Session {document['id']}[/]: {protocol['name']} {protocol['version']} "
        f"- {document['status']}",
        highlight=False,
    )
    console.print(f"Device: {document['device']['url'] or '-'}", highlight=False)
    console.print(f"Started {document['started_at']}, ended {document['ended_at'] or '-'}")
    for reason in document["refusal_reasons"]:
        console.print(f"  refused: {reason}", highlight=False)
    for zone, dose in document["dose_by_zone"].items():
        console.print(f"  {zone}: {dose}", highlight=False)
    telemetry = document["telemetry"]
    console.print(
        f"{len(document['events'])} events; telemetry {telemetry['rows_stored']} rows "
        f"from {telemetry['frames_received']} frames, {telemetry['bytes']} bytes"
    )
    feedback = {k: v for k, v in document["feedback"].items() if v is not None}
    if feedback:
        console.print(f"Feedback: {feedback}", highlight=False)


def _local(value: str | None, zone: ZoneInfo) -> str:
    if value is None:
        return "-"
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _render_steps(steps: list[dict[str, Any]], zone: ZoneInfo) -> None:
    """The visit's steps around the session, times in the clinic's zone."""
    if not steps:
        return
    from rich.table import Table

    table = Table("step", "state", "planned", "taken", "started", "ended", "products", "by",
                  title=f"The service, step by step (times in {zone.key})")  # fmt: skip
    for step in steps:
        taken = int(step["taken_s"])
        table.add_row(
            f"{step['position'] + 1}. {step['name']}",
            step["status"],
            f"{step['planned_min']} min",
            f"{taken // 60}:{taken % 60:02d}" if step["started_at"] else "-",
            _local(step["started_at"], zone),
            _local(step["ended_at"], zone),
            step["products"] or "-",
            step["done_by"] or "-",
        )
    console.print(table)
