"""`microamp mail`: send the outbox's due messages (a cron job or timer on a cluster, where no
embedded server sends them), queue a test message, and read the log of attempts."""

from __future__ import annotations

from typing import Annotated

import typer

from microamp.cli.common import EXIT_FAILED, JsonOpt, bad_input, console, print_error, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store
from microamp.errors import InvalidValue

app = typer.Typer(
    help="The clinic's mail: the outbox, its sender and its log.", no_args_is_help=True
)

_NOT_CONFIGURED = "no SMTP settings yet: an owner sets them on the Mail page (/settings/mail)"


@app.command("send-due")
def send_due_command(
    database: DatabaseOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")
    ] = 100,
    json_out: JsonOpt = False,
) -> None:
    """Queue the reminders now due, then hand every due message to the SMTP server once; a
    refused one is retried later. Exits 1 when there are no SMTP settings, the stored password
    cannot be decrypted with this secret key, or a message failed for good. Reminder links start with MICROAMP_PUBLIC_URL, as the server's do."""
    from microamp.store.mail import seal_plain_password
    from microamp.store.mail_secret import mail_password_key
    from microamp.store.outbox import send_due
    from microamp.store.reminders import queue_reminders
    from microamp.web.settings import WebSettings, client_link_key, shared_secret_key

    with open_cli_store(database) as store:
        settings = WebSettings(database_url=store.url)
        secret_key = shared_secret_key(settings, store)
        mail_key = mail_password_key(secret_key)
        with store.transaction() as session:
            seal_plain_password(session, mail_key)
            queue_reminders(session, key=client_link_key(secret_key), base_url=settings.public_url)
        report = send_due(store, key=mail_key, limit=limit)
    if json_out:
        print_json(report.as_dict())
    elif not report.configured:
        print_error(_NOT_CONFIGURED)
    elif report.problem:
        print_error(f"nothing sent: {report.problem}")
    else:
        console.print(f"Sent {len(report.sent)}, to retry {len(report.retrying)}, "
                      f"failed {len(report.failed)}.", highlight=False)  # fmt: skip
    if not report.configured or report.failed or report.problem:
        raise typer.Exit(EXIT_FAILED)


@app.command("test")
def test_message(
    to: Annotated[str, typer.Option("--to", help="The address to send the test message to.")],
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Queue a test message to --to; `send-due` (or the server) sends it."""
    from microamp.store.mail import queue_mail

    with open_cli_store(database) as store, store.session() as session:
        try:
            message = queue_mail(session, to=to, subject="microamp: test message", kind="test",
                                 text="This message shows that the clinic's mail settings work.")  # fmt: skip
        except InvalidValue as exc:
            bad_input(exc)
        session.commit()
        document = {"id": message.id, "to": message.to_address, "status": message.status}
    if json_out:
        print_json(document)
    else:
        console.print(f"Queued message {document['id']} to {document['to']}.", highlight=False)


@app.command("log")
def log_command(
    database: DatabaseOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="The newest N.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The newest attempts to send, each with its message's state; times in the clinic's time
    zone, which is named."""
    from microamp.clinic.booking import clinic_zone
    from microamp.store.book_setup import get_settings
    from microamp.store.mail import mail_log

    with open_cli_store(database) as store, store.session() as session:
        zone = clinic_zone(get_settings(session).time_zone)
        rows = [
            {
                "at": attempt.at.astimezone(zone).isoformat(),
                "time_zone": zone.key,
                "message": message.id,
                "to": message.to_address,
                "subject": message.subject,
                "ok": attempt.ok,
                "server": attempt.server,
                "detail": attempt.detail,
                "status": message.status,
            }  # fmt: skip
            for attempt, message in mail_log(session, limit=limit)
        ]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("Nothing has been sent yet.")
    for row in rows:
        outcome = "sent" if row["ok"] else f"not sent: {row['detail']}"
        console.print(f"{row['at']} {row['time_zone']}  #{row['message']} to {row['to']} via {row['server']}: "
                      f"{outcome} ({row['status']})", highlight=False, markup=False)  # fmt: skip
