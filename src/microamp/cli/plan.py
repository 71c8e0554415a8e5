"""`microamp plan`: the dates of a course from a template, its cost, and a calendar file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import JsonOpt, bad_input, console, print_json
from microamp.errors import InvalidValue

if TYPE_CHECKING:
    from microamp.clinic.plans import Closure
    from microamp.clinic.pricing import PackageOffer


def _closure(raw: str) -> Closure:
    from microamp.clinic.intake import parse_date

    first, _, last = raw.partition("..")
    start = parse_date(first, field="closed")
    return (start, parse_date(last, field="closed")) if last else start


def _package(raw: str) -> PackageOffer:
    from microamp.clinic.pricing import PackageOffer, parse_money

    sessions, _, pct = raw.partition(":")
    if not sessions.isdigit() or not pct:
        raise InvalidValue("package", raw, "SESSIONS:DISCOUNT_PCT, e.g. 10:15")
    return PackageOffer(f"{sessions} sessions", int(sessions), parse_money(pct, "package"))


def plan(
    template: Annotated[
        str,
        typer.Option(
            "--template",
            help="clinic-initial | weekly-series | intensive | home-daily",
            show_default=False,
        ),
    ],
    start: Annotated[
        str, typer.Option("--start", help="First possible day, YYYY-MM-DD.", show_default=False)
    ],
    weekdays: Annotated[
        str | None, typer.Option("--weekdays", help="The client's days, e.g. mon,thu.")
    ] = None,
    months: Annotated[int, typer.Option("--months", help="Length of the plan in months.")] = 6,
    price: Annotated[str | None, typer.Option("--price", help="Price of one session.")] = None,
    package: Annotated[
        list[str] | None,
        typer.Option("--package", help="SESSIONS:DISCOUNT_PCT, e.g. 10:15; repeat for more."),
    ] = None,
    closed: Annotated[
        list[str] | None,
        typer.Option("--closed", help="A closure: DATE or FIRST..LAST; repeat for more."),
    ] = None,
    ics: Annotated[
        Path | None, typer.Option("--ics", help="Write the sessions to this iCalendar file.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Plan a course: dates on the client's weekdays, 48 h apart in the clinic, around closures."""
    from microamp.clinic.intake import parse_date
    from microamp.clinic.plans import parse_weekdays, plan_course
    from microamp.clinic.pricing import estimate_cost, parse_money

    try:
        if json_out and ics is not None:
            raise InvalidValue("ics", str(ics), "choose --json or --ics, not both")
        course = plan_course(
            template,
            start=parse_date(start, field="start"),
            weekdays=parse_weekdays(weekdays) if weekdays else (),
            months=months,
            closures=[_closure(c) for c in closed or []],
        )
        per_session = parse_money(price) if price is not None else None
        offers = [_package(p) for p in package or []]
    except InvalidValue as exc:
        bad_input(exc)
    document: dict[str, Any] = course.to_dict()
    if per_session is not None:
        cost = estimate_cost(len(course.sessions), per_session=per_session, packages=offers)
        document["estimated_cost"] = float(cost.total)
        document["cost"] = cost.to_dict()
    if ics is not None:
        _write_ics(course, ics)
    if json_out:
        print_json(document)
        return
    _render(document, ics)


def _write_ics(course: Any, path: Path) -> None:
    from microamp.clinic.ics import plan_to_ics

    try:
        path.write_bytes(plan_to_ics(course, stamp=datetime.now(UTC)))
    except OSError as exc:
        bad_input(InvalidValue("ics", str(path), f"cannot be written: {exc.strerror}"))


def _render(document: dict[str, Any], ics: Path | None) -> None:
    from rich.table import Table

    table = Table(
        "#", "date", "day", "phase", "", title=f"{document['template']}: {document['description']}"
    )
    for s in document["sessions"]:
        day = date.fromisoformat(s["date"]).strftime("%a")
        table.add_row(
            str(s["number"]),
            s["date"],
            day,
            s["phase"],
            "progress check-in after" if s["checkin"] else "",
        )
    console.print(table)
    if "estimated_cost" in document:
        cost = document["cost"]
        saving = f" (saving {Decimal(str(cost['saving'])):.2f})" if cost["saving"] else ""
        console.print(f"Estimated cost: {Decimal(str(document['estimated_cost'])):.2f}{saving}")
    if ics is not None:
        console.print(f"Calendar written to {ics}", highlight=False)
