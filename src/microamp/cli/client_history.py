"""`microamp clients history|lift|answers`: a client's safety history, lifting a safety flag
with a recorded decision, and the latest intake answers to start a re-screen from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from microamp.cli.common import JsonOpt, audit_cli, bad_input, console, os_actor, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, StoreError

ClientIdArg = Annotated[int, typer.Argument(metavar="ID", help="Client id.", show_default=False)]


def history(
    client_id: ClientIdArg, database: DatabaseOpt = None, json_out: JsonOpt = False
) -> None:
    """Every screening (outcome, what changed), every flag raised and lifted, consents and
    clearances."""
    from microamp.store import client_history

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                document = client_history(session, client_id=client_id)
                audit_cli(session, "read", f"client:{client_id}/history", client_id=client_id)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(document)
        return
    _render(document)


def lift(
    client_id: ClientIdArg,
    rule: Annotated[
        str, typer.Option("--rule", help="The flagged screening rule.", show_default=False)
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the flag no longer holds.", show_default=False)
    ],
    by: Annotated[
        str,
        typer.Option(
            "--by", help="Email of the practitioner or owner who decides.", show_default=False
        ),
    ],
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Lift a safety flag: a practitioner's or owner's recorded decision, with a reason."""
    from sqlalchemy import select

    from microamp.store import User, get_client, lift_flags
    from microamp.store.history import flag_dict

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                get_client(session, client_id=client_id)
                user = session.scalar(select(User).where(User.email == by.strip()))
                if user is None:
                    raise InvalidValue("by", by, "no clinic user has this email")
                actor = f"{user.email} ({os_actor()})"
                lifted = lift_flags(session, client_id=client_id, rule_id=rule, reason=reason,
                                    by=user, actor=actor)  # fmt: skip
                for flag in lifted:
                    audit_cli(session, "write", f"client:{client_id}/safety-flag",
                              client_id=client_id, flag_id=flag.id, rule=flag.rule_id,
                              lifted_by=user.email, change="lifted")  # fmt: skip
                document = {"client_id": client_id, "lifted": [flag_dict(f) for f in lifted]}
        except InvalidValue as exc:
            bad_input(exc)
        except StoreError as exc:
            store_failed(exc)
    if json_out:
        print_json(document)
        return
    console.print(f"Lifted {rule} for client {client_id} ({by}).", highlight=False)


def answers(client_id: ClientIdArg, database: DatabaseOpt = None) -> None:
    """The latest intake answers as JSON (edit them and `microamp screen FILE --client ID`)."""
    from microamp.store import get_client, latest_form

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                get_client(session, client_id=client_id)
                form = latest_form(session, client_id=client_id)
                if form is None:
                    raise InvalidValue("ID", client_id, "the client has no intake on file yet")
                document = dict(form.answers)
                audit_cli(session, "read", f"client:{client_id}/intake", client_id=client_id,
                          intake_id=form.id)  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc, as_option=False)
        except StoreError as exc:
            store_failed(exc)
    print_json(document)


def _render(document: dict[str, Any]) -> None:
    console.print(
        f"[bold]{document['full_name']}[/] (client {document['client_id']}): safety history",
        highlight=False,
    )
    for flag in document["flags"]:
        state = (
            f"lifted {flag['lifted_at']} by {flag['lifted_by']}: {flag['lift_reason']}"
            if flag["lifted"]
            else "[red]up[/]"
        )
        console.print(
            f"Flag {flag['rule_id']} ({flag['outcome']}, raised {flag['raised_on']}): {state}",
            highlight=False,
        )
    for screening in document["screenings"]:
        console.print(
            f"Screening v{screening['version']} on {screening['screened_on']}: "
            f"{screening['outcome']} (recorded {screening['recorded_at']})",
            highlight=False,
        )
        for change in screening["changes"]:
            console.print(
                f"  {change['question']}: was {change['was']}, now {change['now']}",
                highlight=False,
            )
    console.print(
        f"Consents: {len(document['consents'])}; clearances: {len(document['clearances'])}"
    )
