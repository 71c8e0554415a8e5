"""`microamp clients edit | archive | merge | search`: keeping client records up to date.

Every command leaves an audit row naming the OS user; a merge is irreversible and asks for
confirmation (``--yes`` gives it)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import JsonOpt, audit_cli, bad_input, console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, StoreError

if TYPE_CHECKING:
    from microamp.store import Client

ClientIdArg = Annotated[int, typer.Argument(help="Client id.", show_default=False)]
_ROMAN = ("I", "II", "III", "IV", "V", "VI")


def record_summary(client: Client) -> dict[str, Any]:
    """A client's contact and health fields as the commands print them."""
    return {
        "id": client.id,
        "full_name": client.full_name,
        "date_of_birth": client.date_of_birth.isoformat(),
        "email": client.email,
        "phone": client.phone,
        "skin_type": _ROMAN[client.fitzpatrick_type - 1] if client.fitzpatrick_type else None,
        "concerns": client.concerns,
        "preferred_weekdays": client.preferred_weekdays,
        "allergies": client.allergies,
        "medications": client.medications,
        "notes": client.notes,
        "archived": client.archived_at is not None,
        "merged_into": client.merged_into_id,
    }


def edit(
    client_id: ClientIdArg,
    name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email ('' clears it).")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone ('' clears it).")] = None,
    skin_type: Annotated[
        str | None, typer.Option("--skin-type", help="Fitzpatrick type I-VI.")
    ] = None,
    concern: Annotated[
        list[str] | None, typer.Option("--concern", help="A concern; repeat for more.")
    ] = None,
    weekdays: Annotated[
        str | None, typer.Option("--weekdays", help="Preferred days, e.g. mon,thu.")
    ] = None,
    allergies: Annotated[str | None, typer.Option("--allergies")] = None,
    medications: Annotated[str | None, typer.Option("--medications")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change a client's details: only the options given change."""
    from microamp.clinic.intake import parse_date
    from microamp.store.client_records import update_client

    changes: dict[str, Any] = {
        "full_name": name,
        "email": email,
        "phone": phone,
        "fitzpatrick_type": skin_type,
        "concerns": concern,
        "preferred_weekdays": weekdays.split(",") if weekdays is not None else None,
        "allergies": allergies,
        "medications": medications,
        "notes": notes,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    with open_cli_store(database) as store:
        try:
            if dob is not None:
                changes["date_of_birth"] = parse_date(dob, field="dob")
            if not changes:
                raise InvalidValue("client_id", client_id, "give at least one field to change")
            with store.transaction() as session:
                client, changed = update_client(
                    session, client_id=client_id, changes=changes, today=date.today()
                )
                document = record_summary(client) | {"changed": changed}
                audit_cli(session, "write", f"client:{client_id}", client_id=client_id,
                          change="edited", fields=",".join(changed))  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(document)
    else:
        what = ", ".join(changed) or "nothing (the values were the same)"
        console.print(f"Client {client_id}: changed {what}.", highlight=False)


def archive(
    client_id: ClientIdArg,
    undo: Annotated[bool, typer.Option("--undo", help="Bring the client back.")] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Archive a client (she leaves lists and search), or with --undo bring her back."""
    from microamp.store.client_records import archive_client, unarchive_client

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                if undo:
                    client = unarchive_client(session, client_id=client_id)
                else:
                    client = archive_client(session, client_id=client_id)
                document = record_summary(client)
                audit_cli(session, "write", f"client:{client_id}", client_id=client_id,
                          change="unarchived" if undo else "archived")  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(document)
    else:
        state = "archived" if document["archived"] else "back in the client list"
        console.print(f"Client {client_id} is {state}.", highlight=False)


def merge(
    keep: Annotated[int, typer.Option("--keep", help="The client kept.", show_default=False)],
    duplicate: Annotated[
        int, typer.Option("--duplicate", help="The duplicate merged away.", show_default=False)
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Merge without asking.")] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Merge a duplicate into the client kept: everything moves, and it cannot be undone."""
    from microamp.store import get_client
    from microamp.store.client_records import merge_clients

    with open_cli_store(database) as store:
        try:
            with store.session() as session:
                names = [get_client(session, client_id=i).full_name for i in (keep, duplicate)]
            if not yes and not typer.confirm(
                f"Move everything of client {duplicate} ({names[1]}) to client {keep} "
                f"({names[0]})? This cannot be undone"
            ):
                raise typer.Exit(1)
            with store.transaction() as session:
                moved = merge_clients(session, keep_id=keep, duplicate_id=duplicate)
                audit_cli(session, "write", f"client:{keep}", client_id=keep,
                          change="merged", duplicate_id=duplicate,
                          moved=",".join(f"{t}={n}" for t, n in sorted(moved.items())))  # fmt: skip
                audit_cli(session, "write", f"client:{duplicate}", client_id=duplicate,
                          change="merged away", kept_id=keep)  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json({"kept": keep, "duplicate": duplicate, "moved": moved})
    else:
        rows = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in sorted(moved.items()))
        console.print(f"Merged client {duplicate} into {keep}: {rows or 'no records'} moved.")


def search(
    query: Annotated[str, typer.Argument(help="Part of a name, email, phone, allergy, note.")],
    archived: Annotated[bool, typer.Option("--archived", help="Include archived.")] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Find clients by name, email or phone, or by allergies, medications and notes."""
    from rich.table import Table

    from microamp.store.client_records import search_clients

    if len(query) > 200:
        bad_input(
            InvalidValue("query", query[:20] + "…", "at most 200 characters"), as_option=False
        )
    with open_cli_store(database) as store, store.transaction() as session:
        found = [
            record_summary(c)
            for c in search_clients(
                session, q=query, clinical=True, include_archived=archived, limit=1000
            )
        ]
        # the health fields are searched: the search is a read of health data
        audit_cli(session, "read", "clients:search", view="clients search",
                  results=len(found))  # fmt: skip
    if json_out:
        print_json({"clients": found})
        return
    table = Table("id", "name", "born", "phone", "email", "archived")
    for row in found:
        table.add_row(str(row["id"]), row["full_name"], row["date_of_birth"],
                      row["phone"] or "", row["email"] or "", "yes" if row["archived"] else "")  # fmt: skip
    console.print(table)
