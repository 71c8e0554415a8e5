"""`microamp export`: a client's record as one FHIR R4B Bundle (JSON on stdout), a person's
full export as one ZIP archive, and the clinic's tables as CSV."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Annotated

import typer

from microamp.cli.common import audit_cli, bad_input, console, err_console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, NotFound, StoreError

app = typer.Typer(help="Export records in a standard format.", no_args_is_help=True)
_MAX_ROW_ID = 2_147_483_647


@app.command(name="fhir")
def fhir(
    client: Annotated[int, typer.Option("--client", help="The client's id.", show_default=False)],
    include_audit: Annotated[
        bool,
        typer.Option("--include-audit", help="Add an AuditEvent per audit row naming her."),
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Everything held on the client as a FHIR R4B (4.3.0) Bundle, as `GET
    /api/v1/fhir/Patient/{id}/$everything` answers it. The read is audited."""
    from microamp.store.fhir import client_bundle

    if not 1 <= client <= _MAX_ROW_ID:
        bad_input(InvalidValue("client", client, f"a client id, a whole number 1-{_MAX_ROW_ID}"))
    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                bundle = client_bundle(session, client_id=client, include_audit=include_audit)
                audit_cli(session, "read", f"client:{client}", client_id=client,
                          view="fhir export", entries=bundle["total"])  # fmt: skip
        except NotFound:
            bad_input(InvalidValue("client", client, "no client has this id"))
        except StoreError as exc:
            store_failed(exc)
    print_json(bundle)


def _out_file(out: Path, suffix: str | None = None) -> Path:
    """``out`` if a file may be written there, else exit 2 naming ``--out``."""
    if out.is_dir():
        bad_input(InvalidValue("out", str(out), "a file to write, not a folder"))
    if not out.parent.is_dir():
        bad_input(InvalidValue("out", str(out), "a file in a folder that exists"))
    if suffix is not None and out.suffix.lower() != suffix:
        bad_input(InvalidValue("out", str(out), f"a file name ending in {suffix}"))
    return out


@contextmanager
def _written_whole(out: Path) -> Iterator[IO[bytes]]:
    """A file beside ``out`` that becomes ``out`` once written whole: a failed export leaves
    no half-written file behind, nor replaces an earlier one."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("wb") as handle:
            yield handle
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def _day(option: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        bad_input(InvalidValue(option, raw, "a day as YYYY-MM-DD"))


@app.command(name="person")
def person(
    client: Annotated[int, typer.Option("--client", help="The client's id.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The .zip file to write.", show_default=False)],
    database: DatabaseOpt = None,
) -> None:
    """Everything held on the client in one ZIP archive, for her subject access request: her
    record as JSON, her FHIR Bundle, her consents as PDF, her photos, her session charts and a
    summary page (index.html). Progress on stderr; the read is audited."""
    from microamp.store.subject_export import write_person_archive

    if not 1 <= client <= _MAX_ROW_ID:
        bad_input(InvalidValue("client", client, f"a client id, a whole number 1-{_MAX_ROW_ID}"))
    target = _out_file(out, ".zip")

    def progress(part: str) -> None:
        err_console.print(f"{part}", highlight=False, markup=False)

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session, _written_whole(target) as handle:
                contents = write_person_archive(session, client_id=client, out=handle,
                                                progress=progress)  # fmt: skip
                audit_cli(session, "read", f"client:{client}", client_id=client,
                          view="full export", files=len(contents.files))  # fmt: skip
        except NotFound:
            bad_input(InvalidValue("client", client, "no client has this id"))
        except StoreError as exc:
            store_failed(exc)
    console.print(f"wrote {target}: {len(contents.files)} files, {contents.sessions} sessions, "
                  f"{len(contents.photos)} photos", highlight=False, markup=False)  # fmt: skip


@app.command(name="csv")
def csv_table(
    table: Annotated[
        str,
        typer.Option(
            "--table", help="clients, appointments, sessions or dose.", show_default=False
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The .csv file to write.", show_default=False)],
    first: Annotated[
        str | None, typer.Option("--from", help="The first day, YYYY-MM-DD (included).")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="The last day, YYYY-MM-DD (included).")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """One table as CSV for the clinic's own analysis: clients, appointments, sessions, or the
    dose by zone (one row per session per zone). Text a spreadsheet would run as a formula is
    written with a leading '. The read is audited."""
    from microamp.store.csv_exports import CSV_TABLES, day_range, write_csv

    if table not in CSV_TABLES:
        bad_input(InvalidValue("table", table, f"one of {', '.join(CSV_TABLES)}"))
    try:
        days = day_range(_day("from", first), _day("to", last))
    except InvalidValue as exc:
        bad_input(exc)
    target = _out_file(out)
    with open_cli_store(database) as store:
        try:
            with store.transaction() as session, _written_whole(target) as handle:
                text = io.TextIOWrapper(handle, "utf-8", newline="")
                rows = write_csv(session, table=table, out=text, days=days)
                text.flush()
                text.detach()  # the file stays open for `_written_whole` to close
                audit_cli(session, "read", f"export:{table}", view="csv export", rows=rows,
                          first=days.first and days.first.isoformat(),
                          last=days.last and days.last.isoformat())  # fmt: skip
        except StoreError as exc:
            store_failed(exc)
    console.print(f"wrote {target}: {rows} rows", highlight=False, markup=False)
