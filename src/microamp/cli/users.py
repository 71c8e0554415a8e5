"""`microamp users`: the clinic's staff (owner, practitioner, reception) and their API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from microamp.cli.common import EXIT_BAD_INPUT, JsonOpt, bad_input, console, err_console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store
from microamp.errors import InvalidValue

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
            _, secret = create_api_token(session, user_id=user.id, name=name)
        except InvalidValue as exc:
            bad_input(exc)
    sys.stdout.write(secret + "\n")
