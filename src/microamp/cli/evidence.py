"""`microamp evidence --out DIR [--tests DIR] [--no-tests-run] [--json]`: a design history.

Writes requirements.md/.json, hazards.md, traceability.csv, soup.csv/.md and
characterisation.html (`microamp characterize sim://`) into DIR; progress on stderr. Exit 1
naming each requirement without a (passing) marked test, 2 for bad input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from microamp.cli.common import (
    EXIT_FAILED,
    JsonOpt,
    bad_input,
    err_console,
    print_error,
    print_json,
)
from microamp.errors import InvalidValue


def _out_dir(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise InvalidValue("out", str(out), "is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValue("out", str(out), f"cannot be created: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise InvalidValue("out", str(out), "is not writable")
    return out


def evidence(
    out: Annotated[Path, typer.Option("--out", help="The folder to write the files into.")],
    tests: Annotated[
        Path, typer.Option("--tests", help="The test tree whose markers trace the requirements.")
    ] = Path("tests"),
    no_tests_run: Annotated[
        bool, typer.Option("--no-tests-run", help="Collect the marked tests without running them.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write the design history: requirements, hazards, traceability, SOUP, characterisation."""
    from microamp.cli.characterize import report_html
    from microamp.evidence import documents as doc
    from microamp.evidence.register import REGISTER
    from microamp.evidence.soup import soup
    from microamp.evidence.trace import CollectionFailed, collect_tests
    from microamp.safety import get_profile
    from microamp.session.characterize import characterize

    def say(message: str) -> None:
        err_console.print(message, highlight=False)

    try:
        folder = _out_dir(out)
        trace = collect_tests(tests, run=not no_tests_run, register=REGISTER, progress=say)
    except InvalidValue as exc:
        bad_input(exc)
    except CollectionFailed as exc:
        print_error(exc)
        raise typer.Exit(EXIT_FAILED) from None
    say("reading the installed distributions")
    items = soup()
    say("characterising sim://")
    report = characterize(
        "sim://",
        get_profile("home"),
        electrode_area_cm2=1.0,
        progress=lambda message: say(f"measuring {message}"),
    )
    files = {
        "requirements.md": doc.requirements_md(trace),
        "requirements.json": doc.requirements_json(trace),
        "hazards.md": doc.hazards_md(REGISTER),
        "traceability.csv": doc.traceability_csv(trace),
        "soup.csv": doc.soup_csv(items),
        "soup.md": doc.soup_md(items),
        "characterisation.html": report_html(report),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        say(f"wrote {folder / name}")
    problems = trace.problems()
    if json_out:
        print_json({"out": str(folder), "files": sorted(files), "problems": problems})
    for line in problems:
        print_error(line)
    if problems:
        raise typer.Exit(EXIT_FAILED)
