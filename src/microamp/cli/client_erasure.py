"""`microamp clients erase N --yes`: erase a client, naming what goes; refused (exit 1) with
the rule named while the clinic's retention setting holds her records. Without ``--yes`` it
only says what would go, and erases nothing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from microamp.cli.common import EXIT_FAILED, JsonOpt, console, os_actor, print_error, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import StoreError

ClientIdArg = Annotated[int, typer.Argument(help="Client id.", show_default=False)]
YesOpt = Annotated[
    bool, typer.Option("--yes", help="Erase: without it, only what would go is shown.")
]


def _what_goes(counts: dict[str, int]) -> str:
    return ", ".join(f"{number} {name.replace('_', ' ')}" for name, number in counts.items())


def erase(
    client_id: ClientIdArg, yes: YesOpt = False, database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Erase a client: her personal content, photos, consents and visits; her dose figures stay
    without her identity, and the audit chain records the erasure."""
    from microamp.store.erasure import RetentionHold, erase_client, erasure_plan, remove_files

    with open_cli_store(database) as store:
        try:
            with store.transaction() as session:
                if not yes:
                    plan = erasure_plan(session, client_id=client_id, today=date.today())
                else:
                    plan, files = erase_client(session, client_id=client_id, actor_id=None,
                                               actor=os_actor(), today=date.today())  # fmt: skip
        except RetentionHold as exc:
            print_error(exc.reason)
            raise typer.Exit(EXIT_FAILED) from None
        except StoreError as exc:
            store_failed(exc)
    if not yes:
        _not_erased(plan.to_dict(), json_out)
    removed = remove_files(files)
    if json_out:
        print_json({"erased": True, "client_id": client_id, **plan.counts(), "files": removed})
        return
    console.print(f"Erased client {client_id}: {_what_goes(plan.counts())}.", highlight=False)


def _not_erased(plan: dict[str, object], json_out: bool) -> None:
    if json_out:
        print_json({"erased": False, **plan})
    else:
        from microamp.store.erasure import ERASED_COUNTS

        counts = {k: int(str(plan[k])) for k in ERASED_COUNTS}
        console.print(f"Erasing client {plan['client_id']} ({plan['full_name']}) would remove "
                      f"{_what_goes(counts)}.", highlight=False)  # fmt: skip
        if plan["held"]:
            console.print(f"It is held: {plan['rule']}.", highlight=False)
        console.print("Nothing erased: run again with --yes to erase.")
    raise typer.Exit(EXIT_FAILED)
