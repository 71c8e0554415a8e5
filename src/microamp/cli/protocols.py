"""`microamp protocols`: list, show, check and draw protocols; store one for every interface."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from microamp.cli.common import EXIT_BAD_INPUT, JsonOpt, bad_input, console, err_console, print_json
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.errors import InvalidValue, InvalidValues, format_value

if TYPE_CHECKING:
    from microamp.protocols import PlannedStep, Protocol

app = typer.Typer(help="List, show, check and draw protocols.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="A library protocol's name, or a .toml file.")]


StoreOpt = Annotated[
    str | None,
    typer.Option("--database", help="Also the protocols stored in this database (URL)."),
]


def _load(ref: str, database: str | None = None) -> tuple[Protocol, list[PlannedStep]]:
    from microamp.protocols import load_protocol, plan_protocol

    try:
        protocol = load_protocol(ref) if database is None else _load_stored(ref, database)
        return protocol, plan_protocol(protocol)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)


def _load_stored(ref: str, database: str) -> Protocol:
    """A file the local user names, else a name from the library or the store."""
    from microamp.protocols import load_protocol
    from microamp.store.protocol_store import load_named_protocol

    if ref.endswith(".toml") or "/" in ref:
        return load_protocol(ref)
    with open_cli_store(database) as store, store.session() as db:
        return load_named_protocol(db, ref)


def _catalogue(database: str | None) -> list[tuple[Protocol, list[PlannedStep]]]:
    """Every library protocol, then (with a store) the newest version of each stored one."""
    from microamp.protocols import library_names, plan_protocol
    from microamp.store.protocol_store import load_named_protocol, protocol_names

    if database is None:
        return [_load(name) for name in library_names()]
    with open_cli_store(database) as store, store.session() as db:
        protocols = [load_named_protocol(db, name) for name in protocol_names(db)]
    return [(p, plan_protocol(p)) for p in protocols]


def _overview(protocol: Protocol, steps: list[PlannedStep]) -> dict[str, Any]:
    return {
        "name": protocol.name,
        "title": protocol.title,
        "version": protocol.version,
        "audience": protocol.audience,
        "example": protocol.example,
        "duration_s": sum(s.duration_s for s in steps),
        "steps": len(steps),
        "zones": sorted({s.zone for s in steps}),
    }


@app.command("list")
def list_(database: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """The protocols in the library (and, with --database, those stored there)."""
    from rich.table import Table

    rows = [_overview(*entry) for entry in _catalogue(database)]
    if json_out:
        print_json({"protocols": rows})
        return
    table = Table(title="Protocol library (examples; no claim of effect)")
    for column in ("name", "audience", "minutes", "steps", "title"):
        table.add_column(column, justify="right" if column in ("minutes", "steps") else "left")
    for row in rows:
        table.add_row(
            row["name"], row["audience"], f"{row['duration_s'] / 60:.1f}", str(row["steps"]),
            row["title"],
        )  # fmt: skip
    console.print(table)


@app.command()
def show(name: NameArg, database: StoreOpt = None, json_out: JsonOpt = False) -> None:
    """One protocol, step by step: muscle, zone, side, technique, current and timing."""
    from rich.table import Table

    protocol, steps = _load(name, database)
    if json_out:
        document = _overview(protocol, steps)
        document.update(
            description=protocol.description,
            content_hash=protocol.content_hash(),
            max_amplitude_ua=protocol.max_amplitude_ua,
            steps=[s.to_dict() for s in steps],
        )
        print_json(document)
        return
    console.print(
        f"[bold]{protocol.title}[/] ({protocol.name} {protocol.version}, {protocol.audience})"
    )
    console.print(protocol.description, highlight=False)
    table = Table()
    for column in ("#", "muscle / region", "zone", "side", "technique", "µA", "reps", "s"):
        table.add_column(column)
    for s in steps:
        table.add_row(
            str(s.index + 1), s.label, s.zone, s.side, s.technique, f"{s.requested_ua:g}",
            f"{s.repetitions} x {s.repetition_s:g} s", f"{s.duration_s:g}",
        )  # fmt: skip
    console.print(table)
    console.print(f"total {sum(s.duration_s for s in steps) / 60:.1f} min")


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="The protocol file (.toml) to check.")],
    profile: Annotated[
        str, typer.Option("--profile", help="home | professional | a custom profile .toml")
    ] = "home",
    json_out: JsonOpt = False,
) -> None:
    """Check a protocol file against anatomy and a limit profile; list every problem (exit 2)."""
    from microamp.protocols import protocol_errors, read_protocol_file
    from microamp.safety import get_profile

    try:
        limits = get_profile(profile)
        errors = protocol_errors(read_protocol_file(file), limits)
    except InvalidValues as exc:
        errors = exc.errors
    except InvalidValue as exc:
        errors = [exc]
    if json_out:
        print_json(
            {
                "file": str(file),
                "profile": profile,
                "valid": not errors,
                "errors": [e.as_dict() for e in errors],
            }
        )
    elif errors:
        err_console.print(f"[bold red]{file}: {len(errors)} problem(s)[/]")
        for e in errors:
            err_console.print(
                f"  {e.field}: {format_value(e.value)} is not allowed: {e.rule}",
                highlight=False, markup=False, soft_wrap=True,
            )  # fmt: skip
    else:
        console.print(f"{file}: valid under the {profile} profile")
    if errors:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def render(
    name: NameArg,
    out: Annotated[Path, typer.Option("--out", help="The .svg file to write.")],
    highlight: Annotated[
        int | None, typer.Option("--highlight", help="Step number (1-based) to highlight.")
    ] = None,
) -> None:
    """Draw the face map with the protocol's probe paths, numbered in order."""
    from microamp.viz.facemap import facemap_svg

    if out.suffix.lower() != ".svg":
        bad_input(InvalidValue("out", str(out), "must be an .svg file"))
    protocol, steps = _load(name)
    if highlight is not None and not 1 <= highlight <= len(steps):
        bad_input(InvalidValue("highlight", highlight, f"must be a step from 1 to {len(steps)}"))
    svg = facemap_svg(
        steps,
        highlight_step=None if highlight is None else highlight - 1,
        title=f"{protocol.title} (example)",
    )
    try:
        out.write_text(svg, encoding="utf-8")
    except OSError as exc:
        bad_input(InvalidValue("out", str(out), f"cannot be written: {exc.strerror}"))
    console.print(f"wrote {out}")


def _local_actor() -> str:
    """Who runs the command, for the upload's row and its audit entry."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@app.command()
def upload(
    file: Annotated[Path, typer.Argument(help="The protocol file (.toml) to store.")],
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a protocol file and store it, so sessions on every interface can name it.

    Every problem is listed (exit 2); a library protocol's name or a version already stored
    exits 1. The upload is audited under the local user's name.
    """
    from microamp.store.access import append_audit
    from microamp.store.protocol_store import ProtocolConflict, store_protocol

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        bad_input(InvalidValue("file", str(file), f"cannot be read as UTF-8 text: {exc}"))
    actor = _local_actor()
    with open_cli_store(database) as store:
        try:
            with store.transaction() as db:
                row = store_protocol(db, toml_text=text, uploaded_by_id=None, uploaded_by=actor)
                append_audit(db, actor_id=None, actor=actor, action="write",
                             resource=f"protocol:{row.name}",
                             detail={"version": row.version, "hash": row.content_hash})  # fmt: skip
        except InvalidValues as exc:
            _report_errors(file, exc.errors)
        except InvalidValue as exc:
            _report_errors(file, [exc])
        except ProtocolConflict as exc:
            store_failed(exc)
    document = {"name": row.name, "version": row.version, "content_hash": row.content_hash,
                "uploaded_by": actor}  # fmt: skip
    if json_out:
        print_json(document)
    else:
        console.print(f"stored {row.name} version {row.version}", highlight=False)


def _report_errors(file: Path, errors: list[InvalidValue]) -> NoReturn:
    err_console.print(f"[bold red]{file}: {len(errors)} problem(s)[/]")
    for e in errors:
        err_console.print(
            f"  {e.field}: {format_value(e.value)} is not allowed: {e.rule}",
            highlight=False, markup=False, soft_wrap=True,
        )  # fmt: skip
    raise typer.Exit(EXIT_BAD_INPUT)
