"""`microamp devices`: which backends exist here, and a device's capabilities and contact."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import (
    EXIT_FAILED,
    JsonOpt,
    ProfileOpt,
    bad_input,
    console,
    print_json,
)
from microamp.cli.stimulate import RunTotals, open_for_cli, run_supervised
from microamp.errors import DeviceError, InvalidValue

if TYPE_CHECKING:
    from microamp.devices import Device
    from microamp.safety import LimitProfile

app = typer.Typer(help="List device backends and probe a device.", no_args_is_help=True)

# Open-tDCS checks contact with a 50 µA test current.
TEST_CURRENT_UA = 50.0
# Above this the contact works but needs gel (ohm): 50 µA would need 5 V.
HIGH_IMPEDANCE_OHM = 100_000.0


@app.command("list")
def list_backends(json_out: JsonOpt = False) -> None:
    """Every device backend and whether it can be used here."""
    from microamp.devices import available_backends

    backends = [b.to_dict() for b in available_backends()]
    if json_out:
        print_json({"backends": backends})
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Device backends")
    for column in ("backend", "available", "example URL", "notes"):
        table.add_column(column)
    for b in backends:
        mark = "[green]yes[/]" if b["available"] else "[red]no[/]"
        # notes name extras like microamp[audio]: text, not markup
        table.add_row(
            b["name"], mark, escape(b["example"]), escape(b["reason"] or b["description"])
        )
    console.print(table)


@app.command()
def probe(
    url: Annotated[str, typer.Argument(help="Device URL, e.g. sim://?load=gel")],
    profile: ProfileOpt = "home",
    json_out: JsonOpt = False,
) -> None:
    """Capabilities, and a contact check with a 50 µA test current. Exit 1 if contact is poor."""
    from microamp.clock import RealClock, SimulatedClock

    is_sim = url.strip().lower().startswith("sim://")
    clock = SimulatedClock() if is_sim else RealClock()
    device, limits = open_for_cli(url, clock, profile)
    with device:
        try:
            contact = _contact_check(device, limits)
        except InvalidValue as exc:
            bad_input(exc)
        except DeviceError as exc:
            contact = {"ok": False, "verdict": "device_error", "error": str(exc)}
        document = {"url": url, "capabilities": device.capabilities.to_dict(), "contact": contact}
    if json_out:
        print_json(document)
    else:
        _print_probe(document)
    if contact["ok"] is False:
        raise typer.Exit(EXIT_FAILED)


def _contact_check(device: Device, profile: LimitProfile) -> dict[str, Any]:
    from microamp.devices import Command, Supervisor
    from microamp.stimulus import Waveform

    # biphasic at 100 Hz: no net charge, and short enough phases for an AC-coupled output
    test = Waveform(
        shape="square", amplitude_ua=TEST_CURRENT_UA, frequency_hz=100.0, polarity="biphasic"
    )
    supervisor = Supervisor(device, profile, adapt=False)
    supervisor.apply(Command(test, expires_after_s=0.5))
    # the test current ramps up over about a second; the last frames judge the contact
    totals, _ = run_supervised(supervisor, 1.5)
    supervisor.stop()
    return _verdict(totals)


def _verdict(totals: RunTotals) -> dict[str, Any]:
    z = totals.last_impedance_ohm
    codes = {f["code"] for f in totals.faults}
    if "contact_lost" in codes:
        verdict = "no_contact"
    elif codes:
        verdict = sorted(codes)[0]
    elif not math.isfinite(z):
        verdict = "unmeasured"
    elif z > HIGH_IMPEDANCE_OHM:
        verdict = "high_impedance"
    else:
        verdict = "good"
    return {
        "ok": None if verdict == "unmeasured" else verdict == "good",
        "verdict": verdict,
        "test_current_ua": TEST_CURRENT_UA,
        "delivered_ua": totals.last_current_ua,
        "impedance_ohm": z if math.isfinite(z) else None,
        "faults": totals.faults,
    }


def _print_probe(document: dict[str, Any]) -> None:
    from rich.table import Table

    caps = document["capabilities"]
    table = Table(title=f"{caps['backend']}: {caps['model']}", show_header=False)
    for key, value in caps.items():
        table.add_row(key, str(value))
    console.print(table)
    contact = document["contact"]
    colour = {True: "green", False: "red", None: "yellow"}[contact["ok"]]
    z = contact.get("impedance_ohm")
    z_text = f", {z / 1000:.1f} kΩ" if z is not None else ""
    console.print(
        f"[{colour}]contact: {contact['verdict']}[/] ({TEST_CURRENT_UA:g} µA test current{z_text})",
        highlight=False,
    )
