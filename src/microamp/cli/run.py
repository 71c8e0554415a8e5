"""`microamp run`: a guided session on a device, live in the terminal or as one JSON summary.

`open_session` builds the runner from the command's arguments with injectable prechecks and
subscribers, and `run_session` drives it and reports, so a command that adds options (a client
record, say) reuses both and only fills the hooks.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microamp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    JsonOpt,
    audit_cli,
    bad_input,
    console,
    err_console,
    print_error,
    print_json,
)
from microamp.cli.db import DatabaseOpt, open_cli_store, store_failed
from microamp.cli.live_view import LiveSession
from microamp.errors import DeviceError, InvalidValue, StoreError

if TYPE_CHECKING:
    from microamp.clock import Clock
    from microamp.protocols import Protocol
    from microamp.session import (
        EventSubscriber,
        Prechecks,
        SessionOptions,
        SessionRunner,
        SessionSummary,
        TelemetrySubscriber,
    )
    from microamp.store import SessionRecorder, Store
    from microamp.store.lease_keeper import LeaseKeeper

__all__ = ["LiveSession", "exit_code", "open_session", "parse_speed", "run", "run_session"]

ProtocolArg = Annotated[
    str,
    typer.Argument(help="A protocol's name (the library's, or stored with a store), or a .toml."),
]
DeviceOpt = Annotated[str, typer.Option("--device", help="Device URL, e.g. sim://?load=gel")]
RunProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", help="home | professional | a .toml (default: the audience's)"),
]
IntensityOpt = Annotated[
    float,
    typer.Option(
        "--intensity", help="Level, 0-1 of each step's requested current, never above its limits."
    ),
]
SpeedOpt = Annotated[
    str, typer.Option("--speed", help="Times real time (sim only), or max: as fast as possible.")
]


def parse_speed(speed: str) -> float | None:
    """``max`` -> None (simulated time), else a factor above 0; raises `InvalidValue`."""
    if speed.strip().lower() == "max":
        return None
    try:
        factor = float(speed)
    except ValueError:
        raise InvalidValue("speed", speed, "must be a number above 0 or max") from None
    if not (factor > 0 and factor < float("inf")):
        raise InvalidValue("speed", speed, "must be a number above 0 or max")
    return factor


def _clock(speed: str, device_url: str) -> Clock:
    """Hardware runs on the real clock; the simulator on simulated time, paced or as fast as
    possible (host work never counts as session time, so commands are renewed in time)."""
    from microamp.clock import PacedClock, RealClock, SimulatedClock

    factor = parse_speed(speed)
    if not device_url.startswith("sim:"):
        if factor != 1.0:
            raise InvalidValue(
                "speed", speed, "only the simulator (sim://) runs faster than real time"
            )
        return RealClock()
    return SimulatedClock() if factor is None else PacedClock(factor)


@contextlib.contextmanager
def open_session(
    protocol_ref: str,
    device_url: str,
    *,
    profile: str | None = None,
    intensity: float = 1.0,
    speed: str = "1",
    prechecks: Prechecks | None = None,
    subscribers: Iterable[EventSubscriber] = (),
    telemetry_subscribers: Iterable[TelemetrySubscriber] = (),
    options: SessionOptions | None = None,
    protocol: Protocol | None = None,
) -> Iterator[SessionRunner]:
    """A runner for the arguments of `microamp run`, its device closed (output zero) on exit.

    ``options`` overrides ``intensity`` when given; ``protocol``, already loaded, overrides
    ``protocol_ref``. Raises `InvalidValue` for bad arguments or a
    protocol that breaks the profile, `DeviceError` if the device cannot be opened.
    """
    from dataclasses import replace

    from microamp.devices import open_device
    from microamp.protocols import load_protocol
    from microamp.safety import get_profile
    from microamp.session import SessionOptions, SessionRunner

    protocol = protocol or load_protocol(protocol_ref)
    limits = get_profile(profile or protocol.audience)
    session_options = options or replace(SessionOptions(), intensity=intensity)
    clock = _clock(speed, device_url)
    with open_device(device_url, clock=clock, profile=limits) as device:
        yield SessionRunner(
            protocol,
            device,
            profile=limits,
            options=session_options,
            prechecks=prechecks,
            subscribers=subscribers,
            telemetry_subscribers=telemetry_subscribers,
        )


def exit_code(summary: SessionSummary) -> int:
    """0 completed or stopped by the operator, 1 aborted by a fault or refused."""
    return 0 if summary.status in ("completed", "stopped") else EXIT_FAILED


def run_session(
    runner: SessionRunner,
    *,
    json_out: bool,
    device_url: str,
    extra: dict[str, Any] | None = None,
) -> int:
    """Drive ``runner`` to its end (live view unless ``json_out``), print the outcome, exit code.

    ``extra`` joins the JSON summary (a record id, say).
    """
    if json_out:
        summary = runner.run()
        document = summary.to_dict()
        document["device"] = device_url
        document.update(extra or {})
        print_json(document)
    else:
        summary = LiveSession(runner).run(interactive=sys.stdin.isatty())
    return exit_code(summary)


ClientOpt = Annotated[
    int | None,
    typer.Option(
        "--client",
        help="Client record id: screen and check consent first, then record the session.",
    ),
]


def run(
    protocol: ProtocolArg,
    device: DeviceOpt,
    profile: RunProfileOpt = None,
    intensity: IntensityOpt = 1.0,
    speed: SpeedOpt = "1",
    client: ClientOpt = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a guided session: cues, countdown, live current; p/space pauses, q/s stops.

    With --client the clinic's gate runs first (no current for a client who is blocked, exit 1
    with the reasons) and the session is recorded from what the device delivered. With a store
    (--client, --database or MICROAMP_DATABASE_URL) the device is leased there first: while
    another session holds it, exit 1 naming that session. A run with no store has nobody to
    share the device with through one, so it takes no lease.
    """
    try:
        if client is not None:
            code = _run_for_client(
                protocol, device, client, database,
                profile=profile, intensity=intensity, speed=speed, json_out=json_out,
            )  # fmt: skip
        elif _store_configured(database):
            code = _run_leased(
                protocol, device, database,
                profile=profile, intensity=intensity, speed=speed, json_out=json_out,
            )  # fmt: skip
        else:
            with open_session(
                protocol, device, profile=profile, intensity=intensity, speed=speed
            ) as runner:
                code = run_session(runner, json_out=json_out, device_url=device)
    except InvalidValue as exc:
        bad_input(exc, as_option=False)
    except DeviceError as exc:
        print_error(exc)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except StoreError as exc:  # a busy device, or the record closed elsewhere mid-session
        store_failed(exc)
    if code:
        raise typer.Exit(code)


def _journal_handed_over(store: Store, recorder: SessionRecorder) -> bool:
    """Write what the session journaled while the store was out of reach, now that the run is
    over; False (and where it waits, and how to write it, on stderr) while the store is still
    out of reach."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from microamp.store.journal import hand_over

    journal = recorder.journal
    if journal is None or not journal.pending:
        return True
    try:
        hand_over(store, journal.path)
    except (OperationalError, InterfaceError):
        err_console.print(
            f"The store could not be reached: record {recorder.session_id}'s last writes are "
            f"kept in {journal.path}. `microamp records hand-over {recorder.session_id}` writes "
            "them once it is back (a station on this data directory does so by itself).",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        return False
    err_console.print(
        f"The store was out of reach during the session; record {recorder.session_id}'s "
        "journal is written now.", markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip
    return True


def _store_configured(database: str | None) -> bool:
    from microamp.store import load_settings

    return bool(database) or load_settings().database_url is not None


def _protocol(store: Store, ref: str) -> Protocol:
    """A file the local user names is read as such; a name comes from the library or the
    store."""
    from microamp.protocols import load_protocol
    from microamp.store.protocol_store import load_named_protocol

    if ref.endswith(".toml") or "/" in ref:
        return load_protocol(ref)
    with store.session() as db:
        return load_named_protocol(db, ref)


@contextlib.contextmanager
def _leased(store: Store, device: str) -> Iterator[LeaseKeeper]:
    """The device's lease for the run, renewed by heartbeat and released at the end; raises
    `DeviceBusy` while another session holds it."""
    from microamp.store.lease_keeper import LeaseKeeper

    keeper = LeaseKeeper.acquire(store, device)
    try:
        keeper.start()
        yield keeper
    finally:
        keeper.release()


def _stop_on_loss(keeper: LeaseKeeper, runner: SessionRunner) -> None:
    """Losing the lease means another process may drive the device: stop output."""
    keeper.on_lost = runner.stop


def _run_leased(
    protocol: str,
    device: str,
    database: str | None,
    *,
    profile: str | None,
    intensity: float,
    speed: str,
    json_out: bool,
) -> int:
    """A session without a client record, on a device leased in the configured store (created
    or migrated first: the lease table is all this run needs of it)."""
    with open_cli_store(database, upgrade=True) as store, _leased(store, device) as keeper:
        with open_session(
            protocol, device, profile=profile, intensity=intensity, speed=speed,
            protocol=_protocol(store, protocol),
        ) as runner:  # fmt: skip
            _stop_on_loss(keeper, runner)
            return run_session(runner, json_out=json_out, device_url=device)


def _run_for_client(
    protocol: str,
    device: str,
    client_id: int,
    database: str | None,
    *,
    profile: str | None,
    intensity: float,
    speed: str,
    json_out: bool,
) -> int:
    """Gate, run and record a session for a client; the record id joins the summary."""
    from microamp.errors import NotFound
    from microamp.protocols.validate import plan_protocol
    from microamp.safety import get_profile
    from microamp.store import SessionRecorder, get_client
    from microamp.store.base import utc_now
    from microamp.store.daily_time import claim_daily_time, client_day, planned_seconds
    from microamp.store.gating import start_prechecks
    from microamp.store.record_writer import RecordWriter

    with open_cli_store(database) as store:
        with store.transaction() as db:
            try:
                get_client(db, client_id=client_id)
            except NotFound as exc:
                store_failed(exc)
            audit_cli(db, "read", f"client:{client_id}/session", client_id=client_id,
                      protocol=protocol, device=device)  # fmt: skip
            today = client_day(db, now=utc_now())  # her day in the clinic's time zone
        loaded = _protocol(store, protocol)
        limits = get_profile(profile or loaded.audience)
        prechecks = start_prechecks(store, client_id=client_id, on=today, protocol=loaded,
                                    profile=limits)  # fmt: skip
        planned_s = planned_seconds(plan_protocol(loaded, limits))
        with _leased(store, device) as keeper, open_session(
            protocol, device, profile=profile, intensity=intensity, speed=speed, prechecks=prechecks,
            protocol=loaded,
        ) as runner:  # fmt: skip
            _stop_on_loss(keeper, runner)
            # the record opens once the protocol and device are accepted: bad input leaves none
            recorder = SessionRecorder.start(
                store,
                protocol_name=runner.protocol.name,
                protocol_version=runner.protocol.version,
                protocol_hash=runner.protocol.content_hash(),
                device_url=device,
                client_id=client_id,
                planned_s=planned_s,
                # as a station's: what the store cannot take while out of reach waits on disk
                journaled=True,
                # her day checked again with the record written, as one step
                admit=lambda db: claim_daily_time(
                    db, client_id=client_id, planned_s=planned_s, on=today
                ),  # fmt: skip
            )
            keeper.attach(recorder.session_id)
            # as on a station: the runner only queues, and a record that falls behind its bound
            # (a store that stalls) stops the output with a record_failed fault
            writer = RecordWriter.attach(recorder, runner)
            try:
                code = run_session(
                    runner, json_out=json_out, device_url=device,
                    extra={"record_id": recorder.session_id},
                )  # fmt: skip
                summary = runner.summary()
            finally:
                writer.close()  # everything the session emitted written before the record closes
                recorder.close()
        recorder.keep_summary(summary)
        if not _journal_handed_over(store, recorder):
            return code or EXIT_FAILED
        if not json_out:
            console.print(
                f"Recorded as session {recorder.session_id}: microamp records show {recorder.session_id}"
            )
    return code
