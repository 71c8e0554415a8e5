"""`microamp users`: the clinic's staff (owner, practitioner, reception), their API tokens,
and their administration: disable, enable, role, reset-password, remove-two-factor, sessions
and end-sessions (each a security event in the audit log, by the OS user)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    JsonOpt,
    bad_input,
    console,
    err_console,
    print_error,
    print_json,
)
from microamp.cli.db import DatabaseOpt, open_cli_store
from microamp.errors import InvalidValue

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from microamp.store.models import User

app = typer.Typer(help="Clinic staff who sign in to the web app.", no_args_is_help=True)

RoleOpt = Annotated[str, typer.Option("--role", help="owner | practitioner | reception")]


def _password(from_stdin: bool, known: tuple[str, ...]) -> str:
    from microamp.web.security import check_password_rules

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = check_password_rules(password, known=known)
    if problem:
        # the password itself is never echoed; one line, however long the reason
        err_console.print(
            f"[bold red]error:[/] password: {problem}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    return password


@app.command()
def add(
    email: Annotated[str, typer.Argument(help="The address they sign in with.")],
    role: RoleOpt = "practitioner",
    name: Annotated[str | None, typer.Option("--name", help="Name shown in the app.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a user; the password is asked for (twice) unless --password-stdin."""
    from microamp.store.crud import create_user
    from microamp.store.models import ROLES
    from microamp.web.security import hash_password

    if role not in ROLES:  # before asking for a password that would be thrown away
        bad_input(InvalidValue("role", role, f"must be one of {', '.join(ROLES)}"))
    password = _password(password_stdin, known=(email, name or email.split("@")[0]))
    with open_cli_store(database, upgrade=True) as store:
        try:
            with store.transaction() as session:
                user = create_user(
                    session,
                    email=email,
                    display_name=name or email.split("@")[0],
                    role=role,
                    password_hash=hash_password(password),
                )
                shown = {"id": user.id, "email": user.email, "role": user.role}
        except InvalidValue as exc:
            bad_input(exc)
    if json_out:
        print_json(shown)
    else:
        console.print(f"added {shown['email']} ({shown['role']}), id {shown['id']}")


@app.command(name="list")
def list_users(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Every user and their role."""
    from sqlalchemy import select

    from microamp.store.models import User

    with open_cli_store(database) as store, store.session() as session:
        users = [
            {
                "id": u.id,
                "email": u.email,
                "name": u.display_name,
                "role": u.role,
                "active": u.active,
            }  # fmt: skip
            for u in session.scalars(select(User).order_by(User.id))
        ]
    if json_out:
        print_json(users)
        return
    for u in users:
        console.print(f"{u['id']:>4}  {u['email']:<36} {u['role']:<13} {u['name']}")


@app.command()
def token(
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "cli",
    database: DatabaseOpt = None,
) -> None:
    """Create a personal API token for the user and print it (it is shown only once)."""
    from sqlalchemy import func, select

    from microamp.store.access import create_api_token
    from microamp.store.models import User

    with open_cli_store(database) as store, store.transaction() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            bad_input(InvalidValue("email", email, "no user has this address"), as_option=False)
        try:
            row, secret = create_api_token(session, user_id=user.id, name=name)
        except InvalidValue as exc:
            bad_input(exc)
        _event(session, "auth.token_created", user.id, token_id=row.id, name=row.name)
    sys.stdout.write(secret + "\n")


# -- administration: what the Staff page does, from a terminal on the clinic's machine --------

EmailArg = Annotated[str, typer.Argument(help="The address the user signs in with.")]


def _event(session: Session, action: str, user_id: int, **detail: object) -> None:
    """A security event in the audit log, by the OS user who ran the command."""
    from microamp.cli.common import os_actor
    from microamp.store.access import append_audit

    append_audit(session, actor_id=None, actor=os_actor(), action=action,
                 resource=f"user:{user_id}", detail={"address": "cli", "outcome": "ok", **detail})  # fmt: skip


def _change(database: str | None, email: str, change: Callable[[Session, User], str]) -> None:
    """Find the user by ``email`` and apply ``change`` in one transaction; print what it says.
    Exit 2 for an unknown address, 1 when the change would leave the clinic without an owner."""
    from microamp.store.staff import LastOwner, find_user

    with open_cli_store(database, upgrade=True) as store:
        try:
            with store.transaction() as session:
                said = change(session, find_user(session, email=email))
        except InvalidValue as exc:
            bad_input(exc, as_option=False)
        except LastOwner as exc:
            print_error(exc)
            raise typer.Exit(EXIT_FAILED) from None
    sys.stdout.write(said + "\n")


@app.command()
def disable(email: EmailArg, database: DatabaseOpt = None) -> None:
    """Disable a user: every session ends now and their API tokens stop working."""
    from microamp.store.base import utc_now
    from microamp.store.staff import set_active

    def change(session: Session, user: User) -> str:
        set_active(session, user_id=user.id, active=False, now=utc_now())
        _event(session, "staff.disable", user.id)
        return f"{user.email} is disabled"

    _change(database, email, change)


@app.command()
def enable(email: EmailArg, database: DatabaseOpt = None) -> None:
    """Let a disabled user sign in again."""
    from microamp.store.base import utc_now
    from microamp.store.staff import set_active

    def change(session: Session, user: User) -> str:
        set_active(session, user_id=user.id, active=True, now=utc_now())
        _event(session, "staff.enable", user.id)
        return f"{user.email} is enabled"

    _change(database, email, change)


@app.command()
def role(
    email: EmailArg,
    new_role: Annotated[
        str, typer.Argument(metavar="ROLE", help="owner | practitioner | reception")
    ],
    database: DatabaseOpt = None,
) -> None:
    """Give a user another role (the last active owner keeps theirs)."""
    from microamp.store.staff import set_role

    def change(session: Session, user: User) -> str:
        set_role(session, user_id=user.id, role=new_role)
        _event(session, "staff.role", user.id, role=new_role)
        return f"{user.email} is now {new_role}"

    _change(database, email, change)


def _week(specs: list[str]) -> dict[str, list[list[str]]]:
    """``["mon=09:00-13:00,14:00-18:00", "tue=09:00-17:00"]`` as opening-hours JSON."""
    week: dict[str, list[list[str]]] = {}
    for spec in specs:
        day, sep, spans = spec.partition("=")
        periods = [span.split("-") for span in spans.split(",")] if spans else []
        if not sep or day.strip() in week or any(len(p) != 2 for p in periods):
            raise InvalidValue(
                "working_hours", spec, "DAY=HH:MM-HH:MM[,HH:MM-HH:MM], each day once"
            )
        week[day.strip()] = [[a.strip(), b.strip()] for a, b in periods]
    return week


@app.command()
def hours(
    email: EmailArg,
    days: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="DAY=HH:MM-HH:MM[,HH:MM-HH:MM]...",
            help="Working periods per weekday (mon ... sun); a day left out: not working.",
        ),
    ] = None,
    clinic: Annotated[
        bool, typer.Option("--clinic", help="Work the clinic's opening hours (the default).")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Set when an owner or practitioner can be booked, online or by reception: for example
    `microamp users hours ana@clinic.example mon=09:00-13:00,14:00-18:00 wed=09:00-13:00`."""
    from microamp.clinic.booking import parse_hours, working_hours_text
    from microamp.store.staff import set_working_hours

    try:
        if clinic == bool(days):
            raise InvalidValue("working_hours", " ".join(days or ()) or "nothing",
                               "the days' periods, or --clinic, one of the two")  # fmt: skip
        week = None if clinic else _week(days or [])
    except InvalidValue as exc:
        bad_input(exc, as_option=False)

    def change(session: Session, user: User) -> str:
        set_working_hours(session, user_id=user.id, hours=week)
        _event(session, "staff.working_hours", user.id, working_hours=user.working_hours)
        if user.working_hours is None:
            return f"{user.email} works the clinic's opening hours"
        shown = working_hours_text(parse_hours(user.working_hours, name="working_hours"))
        return f"{user.email} works {shown}"

    _change(database, email, change)


@app.command(name="reset-password")
def reset_password_command(email: EmailArg, database: DatabaseOpt = None) -> None:
    """Give a user a temporary password, printed once on stdout; they choose their own at the
    next sign-in. Every session of theirs ends."""
    from microamp.store.base import utc_now
    from microamp.store.staff import reset_password
    from microamp.web.security import hash_password, temporary_password

    password = temporary_password()

    def change(session: Session, user: User) -> str:
        reset_password(session, user_id=user.id, password_hash=hash_password(password),
                       now=utc_now())  # fmt: skip
        _event(session, "staff.password_reset", user.id)
        return password

    _change(database, email, change)


@app.command(name="remove-two-factor")
def remove_two_factor_command(email: EmailArg, database: DatabaseOpt = None) -> None:
    """Take a user's second factor away (a lost phone and lost recovery codes)."""
    from microamp.store.base import utc_now
    from microamp.store.staff import remove_two_factor

    def change(session: Session, user: User) -> str:
        remove_two_factor(session, user_id=user.id, now=utc_now())
        _event(session, "staff.2fa_removed", user.id)
        return f"two-factor sign-in removed for {user.email}"

    _change(database, email, change)


@app.command()
def sessions(email: EmailArg, database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """The user's live sessions in the web app (with the default idle timeout and lifetime)."""
    from microamp.store.base import utc_now
    from microamp.store.staff import find_user
    from microamp.store.staff_sessions import live_sessions
    from microamp.web.identity import session_rules
    from microamp.web.settings import WebSettings

    try:
        rules = session_rules(WebSettings())
    except ValueError as exc:  # pydantic's ValidationError: a MICROAMP_ setting out of range
        print_error(exc)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    with open_cli_store(database) as store, store.session() as session:
        try:
            user = find_user(session, email=email)
        except InvalidValue as exc:
            bad_input(exc, as_option=False)
        found = [
            {"id": s.id, "stage": s.stage, "address": s.address,
             "created_at": s.created_at.isoformat(), "last_seen_at": s.last_seen_at.isoformat()}
            for s in live_sessions(session, user_id=user.id, rules=rules, now=utc_now())
        ]  # fmt: skip
    if json_out:
        print_json(found)
        return
    if not found:
        console.print(f"{email}: no live sessions")
    for s in found:
        console.print(f"{s['id']:>5}  {s['stage']:<16} {s['address']:<16} since {s['created_at']}")


@app.command(name="end-sessions")
def end_sessions(email: EmailArg, database: DatabaseOpt = None) -> None:
    """End every session of the user: each browser must sign in again."""
    from microamp.store.base import utc_now
    from microamp.store.staff_sessions import end_user_sessions

    def change(session: Session, user: User) -> str:
        ended = end_user_sessions(session, user_id=user.id, reason="ended from the CLI",
                                  now=utc_now())  # fmt: skip
        _event(session, "staff.sessions_ended", user.id, sessions=ended)
        return f"{ended} session{'' if ended == 1 else 's'} of {user.email} ended"

    _change(database, email, change)
