"""The protocols: the library's and those an owner stored, each with its face map, waveform
preview and steps; an owner's upload form, validated before anything is stored."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.devices.load import LOAD_PRESETS
from microamp.errors import InvalidValue, NotFound
from microamp.protocols import PlannedStep, Protocol, library_names, load_protocol, plan_protocol
from microamp.safety.limits import BUILTIN_PROFILES, LimitProfile, get_profile
from microamp.session.render import PULSE_WINDOWS, StepPulse, render_step_pulse
from microamp.store.models import User
from microamp.store.protocol_store import (
    MAX_PROTOCOL_BYTES,
    PROTOCOL_NAME,
    ProtocolConflict,
    latest_stored,
    parse_protocol_text,
    protocol_names,
    store_protocol,
)
from microamp.viz.facemap import facemap_svg
from microamp.web.charts import pulse_svg, waveform_svg
from microamp.web.deps import CsrfChecked, DbDep, PageUser, audit
from microamp.web.errors import FieldError
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])


@dataclass(frozen=True, slots=True)
class Entry:
    protocol: Protocol
    steps: tuple[PlannedStep, ...]
    facemap: str
    waves: tuple[tuple[str, str], ...]  # (which steps, svg) per distinct waveform

    @property
    def duration_min(self) -> float:
        return sum(s.duration_s for s in self.steps) / 60


@cache
def library_entry(name: str) -> Entry:
    """A library protocol, planned and drawn once per process (the library is read-only)."""
    try:
        protocol = load_protocol(name)
    except InvalidValue:
        raise NotFound(f"no protocol named {name!r}") from None
    return protocol_entry(protocol)


def protocol_entry(protocol: Protocol) -> Entry:
    """A protocol planned and drawn for its page."""
    steps = tuple(plan_protocol(protocol))
    distinct: dict[str, list[int]] = {}
    by_key = {}
    for step in steps:
        key = repr(step.waveform)
        distinct.setdefault(key, []).append(step.index + 1)
        by_key[key] = step.waveform
    waves = tuple(
        (_which(numbers, len(steps)), waveform_svg(by_key[key]))
        for key, numbers in distinct.items()
    )
    return Entry(
        protocol,
        steps,
        facemap_svg(steps, show_muscles=False, drawing_id=f"map-{protocol.name}"),
        waves,
    )


def _which(numbers: list[int], total: int) -> str:
    if len(numbers) == total:
        return "every step"
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    return f"{len(numbers)} steps ({numbers[0]}, {numbers[1]}…)"


def stored_entries(db: Session) -> list[Entry]:
    """The newest version of every stored protocol."""
    library = set(library_names())
    entries = []
    for name in protocol_names(db):
        stored = latest_stored(db, name) if name not in library else None
        if stored is not None:
            entries.append(protocol_entry(parse_protocol_text(stored.toml_text)))
    return entries


def _protocols_page(
    request: Request,
    user: User,
    db: Session,
    *,
    upload_errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "protocols.html",
        user,
        status_code=status_code,
        title="Protocols",
        entries=[library_entry(name) for name in library_names()],
        stored=stored_entries(db),
        owner=user.role == "owner",
        errors=upload_errors or [],
    )


@router.get("/protocols")
def protocols(request: Request, user: PageUser, db: DbDep) -> Response:
    return _protocols_page(request, user, db)


async def _read_upload(file: UploadFile | None) -> str:
    if file is None or not file.filename:
        raise InvalidValue("file", "", "choose a protocol file (.toml) to upload")
    data = await file.read(MAX_PROTOCOL_BYTES + 1)
    if len(data) > MAX_PROTOCOL_BYTES:
        raise InvalidValue("file", file.filename, "a protocol file is at most 256 kB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidValue("file", file.filename, "is not UTF-8 text") from None


def _upload_errors(exc: InvalidValue) -> list[FieldError]:
    """Every problem of the file, each named by its place in the file (``steps[0].muscle``);
    the one control is the file input, so every link leads there."""
    return [
        FieldError(
            "file",
            "protocol-file",
            f"Protocol file: {e.rule}" if e.field == "file" else f"{e.field}: {e.rule}",
        )
        for e in getattr(exc, "errors", [exc])
    ]


@router.post("/protocols/upload")
async def upload(
    request: Request, user: PageUser, db: DbDep, file: UploadFile | None = None
) -> Response:
    """Store an owner's protocol file after validation; errors are shown by field on the
    protocols page, with nothing stored."""
    try:
        text = await _read_upload(file)
        row = store_protocol(db, toml_text=text, uploaded_by_id=user.id, uploaded_by=user.email)
    except InvalidValue as exc:
        db.rollback()
        return _protocols_page(
            request, user, db, upload_errors=_upload_errors(exc), status_code=422
        )
    except ProtocolConflict as exc:
        db.rollback()
        errors = [FieldError("file", "protocol-file", f"Protocol file: {exc}")]
        return _protocols_page(request, user, db, upload_errors=errors, status_code=409)
    audit(db, user, "write", f"protocol:{row.name}", version=row.version, hash=row.content_hash)
    return RedirectResponse(f"/protocols/{row.name}", status_code=303)


def find_entry(db: Session, name: str) -> Entry:
    """The library's protocol of that name or the newest stored version."""
    if not PROTOCOL_NAME.fullmatch(name):
        raise NotFound(f"no protocol named {name!r}")
    if name in library_names():
        entry = library_entry(name)
    else:
        stored = latest_stored(db, name)
        if stored is None:
            raise NotFound(f"no protocol named {name!r}")
        entry = protocol_entry(parse_protocol_text(stored.toml_text))
    return entry


@router.get("/protocols/{name}")
def protocol(request: Request, user: PageUser, db: DbDep, name: str) -> Response:
    entry = find_entry(db, name)
    return page(request, "protocol.html", user, title=entry.protocol.title, entry=entry)


# A step's pulse view is a pure function of the step, the profile, the load and the window, and
# it simulates more than a second of device time. Views are kept, keyed by the reprs of the step
# and the profile (every field that shapes the drawing), so a new version of a stored protocol or
# a different profile is a new key, never a stale drawing.
PULSE_VIEWS_KEPT = 128
_pulse_views: OrderedDict[tuple[str, str, str, str], tuple[StepPulse, str]] = OrderedDict()
_pulse_views_lock = threading.Lock()


def drawn_pulse(
    step: PlannedStep, profile: LimitProfile, load: str, window: str
) -> tuple[StepPulse, str]:
    """The step's pulse view and its SVG, simulated once per distinct request."""
    key = (repr(step), repr(profile), load, window)
    with _pulse_views_lock:
        kept = _pulse_views.get(key)
        if kept is not None:
            _pulse_views.move_to_end(key)
            return kept
    drawn = render_step_pulse(step, profile=profile, load=load, window=window)
    made = (drawn, pulse_svg(drawn.view))
    with _pulse_views_lock:
        _pulse_views[key] = made
        while len(_pulse_views) > PULSE_VIEWS_KEPT:
            _pulse_views.popitem(last=False)
    return made


@router.get("/protocols/{name}/steps/{number}/pulse")
def pulse(
    request: Request,
    user: PageUser,
    db: DbDep,
    name: str,
    number: int,
    load: str = "gel",
    profile: str = "",
    window: str = "period",
) -> Response:
    """One step's waveform after the limits, and what flows into a chosen load, drawn."""
    entry = find_entry(db, name)
    if not 1 <= number <= len(entry.steps):
        raise NotFound(f"{name} has no step {number}")
    step = entry.steps[number - 1]
    chosen = get_profile(profile or entry.protocol.audience)
    drawn, chart = drawn_pulse(step, chosen, load, window)
    return page(
        request,
        "pulse.html",
        user,
        title=f"{entry.protocol.title}: step {number} pulse",
        entry=entry,
        step=step,
        number=number,
        view=drawn.view,
        chart=chart,
        limits=drawn.limits,
        per_pulse_uc=drawn.view.net_charge_per_pulse_uc(step.waveform.period_s),
        loads=list(LOAD_PRESETS),
        profiles=list(BUILTIN_PROFILES),
        windows=list(PULSE_WINDOWS),
        chosen_load=load,
        chosen_profile=chosen.name,
        chosen_window=window,
    )
