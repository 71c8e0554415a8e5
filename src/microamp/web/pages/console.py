"""The session console: choose, precheck, start; then the live view over server-sent events.

The prechecks shown before starting are the same ones the runner repeats when it starts
(screening, consent, device, contact): the page informs, the runner decides.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from microamp.errors import DeviceError, InvalidValue, NotFound
from microamp.session.controls import Action
from microamp.station import (
    RemoteSession,
    SessionEnded,
    StartRequest,
    StationUnavailable,
)
from microamp.store.book import MOVABLE_STATES, get_appointment
from microamp.store.book_models import Service
from microamp.store.client_records import SEARCH_CHARS
from microamp.store.crud import gate_client, get_client
from microamp.store.daily_time import client_day
from microamp.store.leases import DeviceBusy
from microamp.store.models import Appointment, User
from microamp.store.protocol_store import protocol_names
from microamp.store.session_models import TreatmentSession
from microamp.viz.facemap import facemap_svg
from microamp.web.deps import CsrfChecked, DbDep, PageUser, SettingsDep, audit
from microamp.web.errors import FieldError, field_errors
from microamp.web.live import live_sessions, operator_of
from microamp.web.pages.client_choices import ChosenQuery, ClientQuery, client_choices
from microamp.web.pages.console_choice import LABELS, device_labels, parse_choice
from microamp.web.pages.visit_steps import checklist_context
from microamp.web.render import page
from microamp.web.settings import WebSettings

router = APIRouter(dependencies=[CsrfChecked])

_STATE_EVERY_S = 0.25
_POLL_S = 0.1


ChoiceForm = Annotated[str, Form(max_length=500)]
# the client is chosen from a search: an error of hers sends the reader to the search box
_TARGETS = {"client_id": "client_q"}


def _typed(
    client_id: str,
    protocol: str,
    device_url: str,
    intensity: str,
    practitioner_max_ua: str,
    appointment_id: str = "",
) -> dict[str, str]:
    return {"client_id": client_id, "protocol": protocol, "device_url": device_url,
            "intensity": intensity, "practitioner_max_ua": practitioner_max_ua,
            "appointment_id": appointment_id}  # fmt: skip


def _visit_for(db: Session, raw: str, client_id: int) -> int | None:
    """The booked visit a session is started for (none when ``raw`` is empty): hers, and not
    yet in treatment, completed, cancelled or missed."""
    if not raw.strip():
        return None
    visit = db.get(Appointment, int(raw)) if raw.strip().isdigit() else None
    if visit is None or visit.client_id != client_id or visit.state not in MOVABLE_STATES:
        raise InvalidValue("appointment_id", raw, "a booked visit of this client, not yet begun")
    return visit.id


@router.get("/console")
def console(
    request: Request,
    user: PageUser,
    db: DbDep,
    settings: SettingsDep,
    client_id: int | None = None,
    protocol: str | None = None,
    appointment_id: int | None = None,
    client_q: ClientQuery = "",
) -> Response:
    """The console, for the client of ``client_id`` (from her page) or of the booked visit of
    ``appointment_id``, with the clients the search ``client_q`` finds offered beside her."""
    typed: dict[str, str] = {}
    if appointment_id is not None:
        visit = get_appointment(db, appointment_id=appointment_id)
        client_id = visit.client_id
        typed["appointment_id"] = str(visit.id)
        service = db.get(Service, visit.service_id) if visit.service_id is not None else None
        if protocol is None and service is not None and service.protocol_name:
            protocol = service.protocol_name
    return _console_page(request, user, db, settings, client_id=client_id, client_q=client_q,
                         protocol=protocol or "pro-express", typed=typed)  # fmt: skip


@router.get("/console/clients")
def console_clients(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_q: ClientQuery = "",
    client_id: ChosenQuery = "",
) -> Response:
    """The console's client choices for a search, swapped in as it is typed."""
    return page(request, "client_choices.html", user, **client_choices(db, client_q, client_id))


def _console_page(
    request: Request,
    user: User,
    db: Session,
    settings: WebSettings,
    *,
    client_id: int | None,
    protocol: str,
    device_url: str | None = None,
    start_error: str = "",
    errors: list[FieldError] | None = None,
    typed: dict[str, str] | None = None,
    name: str = "console.html",
    client_q: str = "",
) -> Response:
    """The console's choices; ``start_error`` says why the last start was refused (409),
    ``errors`` what was wrong with the choices ``typed`` (422). ``name`` is the template: the
    page, or the fragment a precheck gets back (its summary, and the form swapped out of band).
    The client field offers what the search ``client_q`` finds, the client of ``client_id``
    kept first and checked."""
    names = protocol_names(db)
    return page(
        request,
        name,
        user,
        # the whole page shows the visit's checklist; a fragment swapped into it does not
        checklist=_checklist(db, user, (typed or {}).get("appointment_id", ""))
        if name == "console.html"
        else None,
        status_code=422 if errors else 409 if start_error else 200,
        title="Session console",
        **client_choices(db, client_q[:SEARCH_CHARS], "" if client_id is None else str(client_id)),
        protocols=names,
        protocol=protocol if protocol in names else "pro-express",
        devices=device_labels(settings, live_sessions(request).stations()),
        device_url=device_url or settings.device_url,
        start_error=start_error,
        errors=errors or [],
        typed=typed or {},
    )


def _checklist(db: Session, user: User, raw: str) -> dict[str, Any] | None:
    """The visit's checklist beside the console's choices (a service with manual steps)."""
    if not raw.strip().isdigit():
        return None
    try:
        return checklist_context(db, user, int(raw), back=f"/console?appointment_id={int(raw)}")
    except NotFound:
        return None


def _refused_choice(
    request: Request,
    user: User,
    db: Session,
    settings: WebSettings,
    exc: InvalidValue,
    typed: dict[str, str],
    name: str,
    client_q: str,
) -> Response:
    raw = typed["client_id"].strip()
    client_id = int(raw) if raw.isascii() and raw.isdigit() else None
    return _console_page(
        request, user, db, settings, client_id=client_id, protocol=typed["protocol"],
        device_url=typed["device_url"], errors=field_errors(exc, LABELS, _TARGETS), typed=typed,
        name=name, client_q=client_q,
    )  # fmt: skip


def _clinic_today(request: Request, db: Session) -> date:
    """Today in the clinic's time zone, on the app's wall clock: the day the gate decides for
    (a screening dated today there counts, whatever the server's own zone)."""
    return client_day(db, now=request.app.state.wall_clock())


@router.post("/console/prechecks")
def prechecks(
    request: Request,
    user: PageUser,
    db: DbDep,
    settings: SettingsDep,
    client_id: ChoiceForm = "",
    protocol: ChoiceForm = "",
    device_url: ChoiceForm = "",
    intensity: ChoiceForm = "100",
    practitioner_max_ua: ChoiceForm = "",
    appointment_id: ChoiceForm = "",
    client_q: ChoiceForm = "",
) -> Response:
    typed = _typed(client_id, protocol, device_url, intensity, practitioner_max_ua, appointment_id)
    try:
        choice = parse_choice(settings, protocol_names(db), typed,
                              live_sessions(request).stations())  # fmt: skip
        _visit_for(db, appointment_id, choice[0])
    except InvalidValue as exc:
        return _refused_choice(request, user, db, settings, exc, typed, "console_invalid.html",
                               client_q)  # fmt: skip
    client = get_client(db, client_id=choice[0])
    decision = gate_client(db, client_id=client.id, on=_clinic_today(request, db))
    audit(db, user, "read", f"client:{client.id}/gate", client_id=client.id,
          allowed=decision.allowed)  # fmt: skip
    checks: list[dict[str, Any]] = []
    capped: list[dict[str, Any]] = []
    device_error = ""
    # no test current for a client who may not be treated: the device is not even opened
    if decision.allowed:
        _, name, url, level, cap = choice
        value = {"protocol": name, "intensity": level, "practitioner_max_ua": cap,
                 "avoid_zones": sorted(decision.avoid_zones)}  # fmt: skip
        try:
            found = live_sessions(request).precheck(url, value, operator_of(user, "web"))
            checks, capped = found["checks"], found["capped"]
        except (DeviceError, InvalidValue, DeviceBusy, StationUnavailable) as exc:
            device_error = exc.busy.message if isinstance(exc, DeviceBusy) else str(exc)
    ready = decision.allowed and not device_error and all(c["ok"] for c in checks)
    return page(
        request,
        "console_prechecks.html",
        user,
        client=client,
        decision=decision,
        checks=checks,
        capped=capped,
        device_error=device_error,
        ready=ready,
        # the search rides along, so a refused start comes back with the same choices
        choice=typed | {"client_id": client.id, "client_q": client_q},
    )


@router.post("/console/start")
def start(
    request: Request,
    user: PageUser,
    db: DbDep,
    settings: SettingsDep,
    client_id: ChoiceForm = "",
    protocol: ChoiceForm = "",
    device_url: ChoiceForm = "",
    intensity: ChoiceForm = "100",
    practitioner_max_ua: ChoiceForm = "",
    appointment_id: ChoiceForm = "",
    client_q: ChoiceForm = "",
) -> Response:
    typed = _typed(client_id, protocol, device_url, intensity, practitioner_max_ua, appointment_id)
    try:
        chosen, name, url, level, cap = parse_choice(
            settings, protocol_names(db), typed, live_sessions(request).stations()
        )
        visit = _visit_for(db, appointment_id, chosen)
    except InvalidValue as exc:
        return _refused_choice(request, user, db, settings, exc, typed, "console.html", client_q)
    client = get_client(db, client_id=chosen)
    try:
        live = live_sessions(request).start(
            StartRequest(client.id, client.full_name, name, url, level, user.id, cap, visit),
            on=_clinic_today(request, db),
            operator=operator_of(user, "web"),
        )
    except (DeviceBusy, StationUnavailable, DeviceError, InvalidValue) as exc:
        refused = exc.busy.message if isinstance(exc, DeviceBusy) else str(exc)
        return _console_page(request, user, db, settings, client_id=client.id, protocol=name,
                             device_url=url, start_error=refused, typed=typed,
                             client_q=client_q)  # fmt: skip
    audit(db, user, "write", f"client:{client.id}/session", client_id=client.id,
          record_id=live.record_id, protocol=name, device=url, appointment_id=visit)  # fmt: skip
    return RedirectResponse(f"/live/{live.id}", status_code=303)


def _live(request: Request, live_id: str) -> RemoteSession:
    live = live_sessions(request).get(live_id)
    if live is None:
        raise HTTPException(404, "no session under way by that id (it may have ended long ago)")
    return live


@router.get("/live/{live_id}")
def live_page(request: Request, user: PageUser, db: DbDep, live_id: str) -> Response:
    live = _live(request, live_id)
    planned = live.planned()
    audit(db, user, "read", f"client:{live.request.client_id}/session",
          client_id=live.request.client_id, record_id=live.record_id)  # fmt: skip
    steps = [
        {"index": s.index, "label": s.label, "zone": s.zone, "side": s.side, "cue": s.cue}
        for s in planned
    ]
    # the station's run carries no visit: the record knows the one it was started for
    record = db.get(TreatmentSession, live.record_id) if live.record_id else None
    visit = record.appointment_id if record is not None else None
    return page(
        request,
        "live.html",
        user,
        checklist=checklist_context(db, user, visit, back=f"/live/{live_id}") if visit else None,
        title="Session under way",
        live=live,
        facemap=facemap_svg(planned, show_muscles=False, drawing_id="live-map"),
        steps=steps,
        state=live.state(),
    )


def _sse(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(request: Request, live: RemoteSession) -> AsyncIterator[str]:
    """The session's messages and its state, read from the store where its station writes
    them (in a worker thread: the store is not async)."""
    cursor, last_state = 0, 0.0
    loop = asyncio.get_running_loop()
    while True:
        done = (await asyncio.to_thread(live.refresh)).done  # before the read: nothing missed
        for seq, name, data in await asyncio.to_thread(live.messages_since, cursor):
            cursor = seq + 1
            yield _sse(name, data)
        if loop.time() - last_state >= _STATE_EVERY_S or done:
            last_state = loop.time()
            yield _sse("state", await asyncio.to_thread(live.state))
        if done and not await asyncio.to_thread(live.messages_since, cursor):
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(_POLL_S)


@router.get("/live/{live_id}/events")
def live_events(request: Request, user: PageUser, db: DbDep, live_id: str) -> Response:
    live = _live(request, live_id)
    audit(db, user, "read", f"client:{live.request.client_id}/session",
          client_id=live.request.client_id, record_id=live.record_id, view="live stream")  # fmt: skip
    _release(db)
    return StreamingResponse(
        _stream(request, live),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _release(db: Session) -> None:
    """A stream lasts the whole session: give its database connection back now."""
    db.close()


def _audit_control(
    db: Session, user: User, live: RemoteSession, control: str, **detail: Any
) -> None:
    """A control is a write to the client's session record; audited after it took effect, so
    Stop never waits on the audit log."""
    audit(db, user, "write", f"client:{live.request.client_id}/session",
          client_id=live.request.client_id, record_id=live.record_id, control=control,
          **detail)  # fmt: skip


def _control(request: Request, user: User, db: Session, live_id: str, action: Action) -> Response:
    live = _live(request, live_id)
    live.control(action, operator_of(user, "web"))
    _audit_control(db, user, live, action)
    if request.headers.get("hx-request") or request.headers.get("x-csrf-token"):
        return Response(status_code=204)
    return RedirectResponse(f"/live/{live_id}", status_code=303)


@router.post("/live/{live_id}/pause")
def pause(request: Request, user: PageUser, db: DbDep, live_id: str) -> Response:
    return _control(request, user, db, live_id, "pause")


@router.post("/live/{live_id}/resume")
def resume(request: Request, user: PageUser, db: DbDep, live_id: str) -> Response:
    return _control(request, user, db, live_id, "resume")


@router.post("/live/{live_id}/stop")
def stop(request: Request, user: PageUser, db: DbDep, live_id: str) -> Response:
    return _control(request, user, db, live_id, "stop")


LevelForm = Annotated[float, Form(ge=0, le=1)]


@router.post("/live/{live_id}/intensity")
def intensity(
    request: Request, user: PageUser, db: DbDep, live_id: str, level: LevelForm
) -> Response:
    """Set the session's level (0-1 of each step's requested current) from the next tick; the
    effect, and the limit that caps it, come back over the event stream."""
    live = _live(request, live_id)
    try:
        live.set_intensity(level, operator_of(user, "web"))
    except SessionEnded as exc:
        raise HTTPException(409, str(exc)) from None
    _audit_control(db, user, live, "intensity", level=level)
    if request.headers.get("hx-request") or request.headers.get("x-csrf-token"):
        return Response(status_code=204)
    return RedirectResponse(f"/live/{live_id}", status_code=303)
