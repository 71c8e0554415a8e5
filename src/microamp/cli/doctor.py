"""`microamp doctor`: what this machine has for microamp, and what to do about each problem.

Every check is a `Check`: ``ok``, ``note`` (fine, worth knowing), ``warn`` (works, but should be
fixed) or ``fail`` (``microamp serve`` cannot work). Exit 1 when any check fails. Nothing here
writes: a missing database or data directory is reported, not created.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import typer

from microamp.cli.common import EXIT_FAILED, JsonOpt, bad_input, console, print_json
from microamp.cli.db import DatabaseOpt

Status = Literal["ok", "note", "warn", "fail"]
MIN_PYTHON = (3, 11)
# PostgreSQL that does not answer within this long is reported unreachable.
CONNECT_TIMEOUT_S = 5
CHROMIUM = Path("/usr/bin/chromium")
_STYLES = {"ok": "green", "note": "cyan", "warn": "yellow", "fail": "bold red"}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was checked, how it stands, what was seen, and what to do."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def check_python() -> Check:
    found = ".".join(str(part) for part in sys.version_info[:3])
    facts = {"version": found, "executable": sys.executable}
    if sys.version_info[:2] < MIN_PYTHON:
        return Check("python", "fail", f"Python {found}", "install Python 3.11 or newer", facts)
    return Check("python", "ok", f"Python {found}", facts=facts)


def check_microamp() -> Check:
    from microamp import __version__

    where = Path(__file__).resolve().parents[1]
    return Check("microamp", "ok", f"microamp {__version__} in {where}",
                 facts={"version": __version__, "package": str(where)})  # fmt: skip


def check_database(database: str | None) -> list[Check]:
    """The URL (password hidden), whether it answers, and whether it is migrated."""
    from sqlalchemy.engine import make_url

    from microamp.errors import InvalidValue
    from microamp.store.config import load_settings, normalise_url

    try:
        settings = load_settings()
        url = normalise_url(database) if database else settings.resolved_url()
    except InvalidValue as exc:
        return [Check("database", "fail", f"the database setting is refused: {exc}",
                      "set MICROAMP_DATABASE_URL (or --database) to sqlite:///PATH or "
                      "postgresql+psycopg://USER@HOST/DB")]  # fmt: skip
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists():
            return [_missing_sqlite(shown, path)]
    return _reach(url, shown)


def _missing_sqlite(shown: str, path: Path) -> Check:
    facts = {"url": shown, "reachable": False, "revision": None}
    if _creatable(path.parent):
        return Check("database", "note", f"{shown} does not exist yet",
                     "`microamp serve` or `microamp db upgrade` creates it", facts)  # fmt: skip
    return Check("database", "fail", f"{shown} does not exist and cannot be created here",
                 f"make {path.parent} writable, or set MICROAMP_DATABASE_URL", facts)  # fmt: skip


def _reach(url: str, shown: str) -> list[Check]:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from microamp.store.migrate import current_revision

    is_pg = url.startswith("postgresql")
    engine = create_engine(
        url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S} if is_pg else {}
    )
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fix = ("start PostgreSQL, or correct MICROAMP_DATABASE_URL (or --database)" if is_pg
               else "check the file's permissions, or set MICROAMP_DATABASE_URL")  # fmt: skip
        return [Check("database", "fail", f"cannot reach the database {shown}: {reason}", fix,
                      {"url": shown, "reachable": False})]  # fmt: skip
    finally:
        engine.dispose()
    reached = Check("database", "ok", f"{shown} answers", facts={"url": shown, "reachable": True})
    return [reached, _migrated(revision)]


def _migrated(revision: str | None) -> Check:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from microamp.store.migrate import MIGRATIONS_DIR, head_revision

    head = head_revision()
    facts = {"revision": revision, "head": head}
    if revision == head:
        return Check("migrations", "ok", f"at the newest revision, {head}", facts=facts)
    if revision is None:
        return Check("migrations", "note", "the database is empty",
                     "`microamp serve` migrates it on start, or `microamp db upgrade`", facts)  # fmt: skip
    try:
        ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision)
    except CommandError:
        return Check("migrations", "fail", f"at revision {revision}, unknown to this microamp",
                     "a newer microamp migrated it: upgrade microamp", facts)  # fmt: skip
    return Check("migrations", "warn", f"at revision {revision}, not {head}",
                 "`microamp db upgrade` (or `microamp serve`, which migrates on start)", facts)  # fmt: skip


def _creatable(directory: Path) -> bool:
    """Whether ``directory`` exists writable, or its nearest existing parent is."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False


def check_data_dir() -> Check:
    """Where the audit key, demo credentials and the default database live: writable, private."""
    from microamp.store.config import load_settings

    data_dir = load_settings().data_dir
    facts: dict[str, Any] = {"path": str(data_dir), "exists": data_dir.exists(), "mode": None}
    if not data_dir.exists():
        if _creatable(data_dir):
            return Check("data directory", "note", f"{data_dir} will be created on first run",
                         facts=facts)  # fmt: skip
        return Check("data directory", "fail", f"{data_dir} cannot be created",
                     "set MICROAMP_DATA_DIR to a directory you can write", facts)  # fmt: skip
    mode = stat.S_IMODE(data_dir.stat().st_mode)
    facts["mode"] = f"{mode:04o}"
    if not data_dir.is_dir() or not os.access(data_dir, os.W_OK | os.X_OK):
        return Check("data directory", "fail", f"{data_dir} is not a directory you can write",
                     "chown it to yourself or set MICROAMP_DATA_DIR", facts)  # fmt: skip
    if mode & 0o077:
        return Check("data directory", "warn", f"{data_dir} (mode {mode:04o}) is readable by others",
                     f"it holds the audit key and the records: chmod 700 {data_dir}", facts)  # fmt: skip
    return Check("data directory", "ok", f"{data_dir} (mode {mode:04o})", facts=facts)


def _open_to_others(paths: list[Path]) -> list[Path]:
    return [p for p in paths if stat.S_IMODE(p.stat().st_mode) & 0o077]


def check_database_file(database: str | None) -> Check | None:
    """A SQLite file (and its -wal and -shm) holds every record: mode 0600. None for
    PostgreSQL, or a file not created yet."""
    from sqlalchemy.engine import make_url

    from microamp.errors import InvalidValue
    from microamp.store.config import load_settings, normalise_url

    try:
        url = normalise_url(database) if database else load_settings().resolved_url()
    except InvalidValue:
        return None  # check_database reports it
    parsed = make_url(url)
    path = Path(parsed.database or "")
    if parsed.get_backend_name() != "sqlite" or not path.is_file():
        return None
    files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.is_file()]
    facts = {"path": str(path), "mode": f"{stat.S_IMODE(path.stat().st_mode):04o}"}
    open_ones = _open_to_others(files)
    if open_ones:
        names = " ".join(str(p) for p in open_ones)
        return Check("database file", "warn", f"{path} (mode {facts['mode']}) is readable by others",
                     f"it holds every record: chmod 600 {names}", facts)  # fmt: skip
    return Check("database file", "ok", f"{path} (mode {facts['mode']})", facts=facts)


def check_photos() -> Check | None:
    """Progress photos are health data: directories 0700, files 0600. None before the first."""
    from microamp.store.config import load_settings

    photos = load_settings().photos_dir
    if not photos.is_dir():
        return None
    found = [photos, *photos.rglob("*")]
    open_ones = _open_to_others(found)
    facts = {"path": str(photos), "files": sum(p.is_file() for p in found), "open": len(open_ones)}
    if open_ones:
        return Check("photos", "warn", f"{len(open_ones)} of {len(found)} photos and folders in "
                     f"{photos} are readable by others",
                     f"they are health data: chmod -R go-rwx {photos}", facts)  # fmt: skip
    return Check("photos", "ok", f"{facts['files']} photos in {photos}, private", facts=facts)


def check_devices() -> list[Check]:
    from microamp.devices import available_backends

    backends = {b.name: b for b in available_backends()}
    sim = backends.get("sim")
    checks = [Check("simulator", "ok" if sim and sim.available else "fail",
                    "sim:// is available" if sim and sim.available else "sim:// is missing",
                    "" if sim and sim.available else "reinstall microamp (make install)")]  # fmt: skip
    return [*checks, _serial_ports(), _sound_cards(backends.get("audio"))]


def _serial_ports() -> Check:
    from serial.tools import list_ports

    ports = sorted(port.device for port in list_ports.comports())
    facts = {"ports": ports}
    if not ports:
        return Check("serial ports", "note", "none seen",
                     "a stimulator shows up as /dev/ttyACM0; `microamp firmware-emulator` "
                     "makes one to try", facts)  # fmt: skip
    closed = [p for p in ports if not os.access(p, os.R_OK | os.W_OK)]
    if closed:
        return Check("serial ports", "warn", f"{', '.join(ports)}; no access to {', '.join(closed)}",
                     "add yourself to the dialout group, then sign in again", facts)  # fmt: skip
    return Check("serial ports", "ok", ", ".join(ports), facts=facts)


def _sound_cards(audio: Any) -> Check:
    if audio is None or not audio.available:
        reason = audio.reason if audio is not None else "the audio backend is missing"
        return Check("sound cards", "note", f"not looked for: {reason}",
                     "only for audio:// devices: pip install 'microamp[audio]'")  # fmt: skip
    import sounddevice

    try:
        devices = sounddevice.query_devices()
    except Exception as exc:  # PortAudio's own error types differ by platform
        return Check("sound cards", "warn", f"cannot list them: {exc}", "check the sound system")
    outputs = [str(d["name"]) for d in devices if int(d.get("max_output_channels", 0)) > 0]
    if not outputs:
        return Check("sound cards", "note", "no output device seen", facts={"cards": outputs})
    return Check("sound cards", "ok", ", ".join(outputs), facts={"cards": outputs})


def check_chromium() -> Check:
    found = shutil.which("chromium") or (str(CHROMIUM) if CHROMIUM.exists() else None)
    if found is None:
        return Check("chromium", "note", "absent: the browser tests will be skipped",
                     "`make test` installs it when run as root, or: apt-get install chromium")  # fmt: skip
    return Check("chromium", "ok", f"{found} (for the browser tests)", facts={"path": found})


def run_checks(database: str | None) -> list[Check]:
    """Every check, in the order a person reads them."""
    private = [c for c in (check_database_file(database), check_photos()) if c is not None]
    return [check_python(), check_microamp(), *check_database(database), check_data_dir(),
            *private, *check_devices(), check_chromium()]  # fmt: skip


def doctor(database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Check Python, microamp, the database, the data directory, devices and Chromium; say what
    to do about each problem. Exit 1 when something `microamp serve` needs is wrong."""
    from microamp.errors import InvalidValue
    from microamp.store.config import normalise_url

    try:  # a URL typed on this command line is bad input; one from the environment, a finding
        database = normalise_url(database) if database else None
    except InvalidValue as exc:
        bad_input(exc)
    checks = run_checks(database)
    healthy = all(c.status != "fail" for c in checks)
    if json_out:
        print_json({"healthy": healthy, "checks": [asdict(c) for c in checks]})
    else:
        _print(checks, healthy)
    if not healthy:
        raise typer.Exit(EXIT_FAILED)


def _print(checks: list[Check], healthy: bool) -> None:
    from rich.markup import escape

    for c in checks:
        mark = f"[{_STYLES[c.status]}]{c.status.upper() if c.status == 'fail' else c.status:>4}[/]"
        line = f"{mark} {c.name:<15} {escape(c.detail)}"
        console.print(line, highlight=False, soft_wrap=True)
        if c.fix and c.status != "ok":
            console.print(f"{'':<21}-> {escape(c.fix)}", highlight=False, soft_wrap=True)
    verdict = "ready to serve" if healthy else "not ready: fix what says FAIL"
    console.print(f"microamp doctor: {verdict}", highlight=False)
