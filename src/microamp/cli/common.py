"""What every command group shares: output, errors, and the waveform options."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from microamp.errors import DeviceURLError, InvalidValue, format_value

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from microamp.stimulus.waveform import Waveform

__all__ = [
    "AmplitudeOpt",
    "DutyOpt",
    "FrequencyOpt",
    "JsonOpt",
    "PhaseOpt",
    "PolarityOpt",
    "ProfileOpt",
    "ReversalOpt",
    "RiseOpt",
    "ShapeOpt",
    "audit_cli",
    "bad_input",
    "console",
    "err_console",
    "option_name",
    "os_actor",
    "print_error",
    "print_json",
    "waveform_from_options",
]

console = Console()
err_console = Console(stderr=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

# Capabilities a device declares of itself that no option sets (electrode_area_cm2, say, is both).
_DEVICE_DECLARED = frozenset({"current_step_ua"})
# Waveform fields whose option name differs from "--" + field with dashes.
_OPTION_NAMES: dict[str, str] = {"issued_on": "--issued"}


def option_name(field: str) -> str:
    """The command-line spelling of a field: ``amplitude_ua`` -> ``--amplitude-ua``."""
    head = field.split(".")[0].split("[")[0]
    return _OPTION_NAMES.get(head, "--" + head.replace("_", "-"))


def print_json(document: Any) -> None:
    """Print one JSON document on stdout (the contract of every ``--json``)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_error(message: object) -> None:
    """One error line on stderr; the message is text, never markup (``microamp[audio]``)."""
    from rich.markup import escape

    err_console.print(
        f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True
    )


def bad_input(exc: InvalidValue, *, as_option: bool = True) -> NoReturn:
    """Report bad input on one line per problem, naming option, value and rule; exit 2."""
    from rich.markup import escape

    errors = getattr(exc, "errors", [exc])
    for error in errors:
        name = option_name(error.field) if as_option and _is_option(error) else error.field
        # what a person typed is text, never markup: "[red]" must print as typed
        text = f"{name}: {format_value(error.value)} is not allowed: {error.rule}"
        err_console.print(
            f"[bold red]error:[/] {escape(text)}",
            highlight=False,
            markup=True,
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_BAD_INPUT)


def _is_option(error: InvalidValue) -> bool:
    """False where the value came from elsewhere than an option: a device URL's parameter, or a
    capability the device declared itself (a serial device's output step)."""
    return not isinstance(error, DeviceURLError) and error.field not in _DEVICE_DECLARED


def os_actor() -> str:
    """Who runs this command, as the audit log names them: ``os:`` and the OS user name."""
    import getpass

    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        # no user name in the environment nor in the password database: still say it was the CLI
        return "os:unknown"


def audit_cli(
    session: Session,
    action: str,
    resource: str,
    *,
    client_id: int | None = None,
    **detail: Any,
) -> None:
    """Add an audit row for health data this command reads or writes, with the OS user as the
    actor, in the caller's transaction (the web's rows come from the same `append_audit`)."""
    from microamp.store.access import append_audit

    append_audit(
        session,
        actor_id=None,
        actor=os_actor(),
        action=action,
        resource=resource,
        client_id=client_id,
        detail=detail,
    )


ShapeOpt = Annotated[
    str, typer.Option("--shape", help="square | ramped-square | sine | triangle | pulse")
]
AmplitudeOpt = Annotated[float, typer.Option("--amplitude-ua", help="Peak current in µA.")]
FrequencyOpt = Annotated[float, typer.Option("--frequency-hz", help="0.1-2000 Hz.")]
DutyOpt = Annotated[float, typer.Option("--duty", help="On fraction of a period, (0, 1].")]
PolarityOpt = Annotated[
    str, typer.Option("--polarity", help="positive | negative | alternating | biphasic")
]
ReversalOpt = Annotated[
    float, typer.Option("--reversal-s", help="Seconds between polarity flips (alternating).")
]
RiseOpt = Annotated[float, typer.Option("--rise-s", help="Rise and fall time of ramped-square.")]
PhaseOpt = Annotated[float, typer.Option("--phase-us", help="Pulse width of the pulse shape, µs.")]
ProfileOpt = Annotated[
    str, typer.Option("--profile", help="home | professional | a custom profile .toml")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def waveform_from_options(
    shape: str,
    amplitude_ua: float,
    frequency_hz: float,
    duty: float,
    polarity: str,
    reversal_s: float,
    rise_s: float,
    phase_us: float,
) -> Waveform:
    """Build a `Waveform`, exiting 2 with the option named when a value is bad."""
    from microamp.stimulus.waveform import Waveform

    try:
        return Waveform(
            shape=shape,  # type: ignore[arg-type]
            amplitude_ua=amplitude_ua,
            frequency_hz=frequency_hz,
            duty=duty,
            polarity=polarity,  # type: ignore[arg-type]
            reversal_s=reversal_s,
            rise_s=rise_s,
            phase_us=phase_us,
        )
    except InvalidValue as exc:
        bad_input(exc)
