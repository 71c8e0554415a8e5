"""Pre- and post-care instructions, as printable plain text or a simple HTML page."""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from microamp.errors import InvalidValue

__all__ = ["CARE_KINDS", "CareSheet", "care_html", "care_sheet", "care_text"]

CareKind = Literal["pre", "post"]
CARE_KINDS: tuple[CareKind, ...] = ("pre", "post")
_CARE_PATH = Path(__file__).with_name("data") / "care.toml"
_NOTICE = "microamp is not a cleared medical device; evidence for cosmetic benefit is limited."


@dataclass(frozen=True, slots=True)
class CareSheet:
    """One sheet of instructions."""

    kind: str
    title: str
    items: tuple[str, ...]


@cache
def care_sheet(kind: str) -> CareSheet:
    """The ``pre`` or ``post`` sheet; `InvalidValue` otherwise."""
    if kind not in CARE_KINDS:
        raise InvalidValue("kind", kind, "must be pre or post")
    entry = tomllib.loads(_CARE_PATH.read_text(encoding="utf-8"))[kind]
    return CareSheet(kind=kind, title=entry["title"], items=tuple(entry["items"]))


def care_text(kind: str, *, client_name: str | None = None) -> str:
    """The sheet as plain text, ready to print."""
    sheet = care_sheet(kind)
    lines = [sheet.title, "=" * len(sheet.title)]
    if client_name:
        lines += [f"For: {client_name}"]
    lines += [""] + [f"- {item}" for item in sheet.items] + ["", _NOTICE]
    return "\n".join(lines) + "\n"


def care_html(kind: str, *, client_name: str | None = None) -> str:
    """The sheet as a small standalone HTML page (print-friendly, no scripts)."""
    sheet = care_sheet(kind)
    title = html.escape(sheet.title)
    items = "\n".join(f"    <li>{html.escape(item)}</li>" for item in sheet.items)
    who = f"  <p>For: {html.escape(client_name)}</p>\n" if client_name else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{title}</title>\n"
        "  <style>body{font-family:sans-serif;max-width:40em;margin:2em auto}</style>\n"
        f"</head>\n<body>\n  <h1>{title}</h1>\n{who}  <ul>\n{items}\n  </ul>\n"
        f"  <p><small>{html.escape(_NOTICE)}</small></p>\n</body>\n</html>\n"
    )
