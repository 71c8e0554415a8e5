"""`microamp limits`: the numbers that bound output, with their sources."""

from __future__ import annotations

import typer

from microamp.cli.common import JsonOpt, ProfileOpt, bad_input, console, print_json
from microamp.errors import InvalidValue

app = typer.Typer(help="Show safety limit profiles.", no_args_is_help=True)


@app.command()
def show(profile: ProfileOpt = "home", json_out: JsonOpt = False) -> None:
    """Every limit of a profile, its value and where the number comes from."""
    from rich.table import Table

    from microamp.safety import get_profile

    try:
        limits = get_profile(profile)
    except InvalidValue as exc:
        bad_input(exc)
    if json_out:
        print_json(limits.to_dict())
        return
    table = Table(title=f"Limit profile: {limits.name}")
    table.add_column("limit")
    table.add_column("value", justify="right")
    table.add_column("source")
    for name, limit in limits.limit_items().items():
        table.add_row(name, f"{limit.value:g}", limit.source)
    if limits.custom:
        table.caption = f"custom, based on {limits.base}; file {limits.content_hash}"
    console.print(table)
