"""`microamp export fhir`: a client's record as one FHIR R4B Bundle, JSON on stdout."""

from __future__ import annotations

from typing import Annotated

import typer

from microamp.cli.common import audit_cli, bad_input, print_json
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
