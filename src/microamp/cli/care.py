"""`microamp care`: pre- and post-care instructions, printable as text or HTML."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="Care instructions for clients, before and after a session.", no_args_is_help=True
)

HtmlOpt = Annotated[bool, typer.Option("--html", help="A printable HTML page instead of text.")]
NameOpt = Annotated[
    str | None, typer.Option("--client-name", help="Put the client's name on the sheet.")
]


def _emit(kind: str, html: bool, client_name: str | None) -> None:
    from microamp.clinic.care import care_html, care_text

    render = care_html if html else care_text
    typer.echo(render(kind, client_name=client_name), nl=False)


@app.command()
def pre(html: HtmlOpt = False, client_name: NameOpt = None) -> None:
    """What to do before a session."""
    _emit("pre", html, client_name)


@app.command()
def post(html: HtmlOpt = False, client_name: NameOpt = None) -> None:
    """What to do after a session."""
    _emit("post", html, client_name)
