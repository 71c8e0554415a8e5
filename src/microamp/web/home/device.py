"""Device mode: her routine on a device microamp drives, through the embedded station.

`microamp home --device sim://` runs a station in this process as `microamp serve` does; a
routine here is a start control to it, so the station's rules all apply: the home profile of
the protocol, the clinic's gate for her record (`client_prechecks`), the device lease, the
charge account. She is the operator (her account's `home` user, `home_operator`) of her own
record only: the station refuses any other (`check_home_operator`).

Device mode runs the routine she sees in guide mode: a library home routine or one she built,
without what she skips, each zone starting at her level. The start names the routine and
carries her choices (`Personalisation`, with the hash of the routine the page showed); the
station rebuilds the routine itself, from the library or her stored routine, validates it under
the home profile and refuses one that came out otherwise (`microamp.station.live.start_protocol`).
Its record says which routine ran and what was left out. The level control lowers (or raises
back up to her own levels) through the station's level control, in her name. The Stop button
is a plain form (it works without script) and is on the page at every step; `home_device.js`
polls the state and says Stop, the level and faults in a live region.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from microamp.errors import InvalidValue
from microamp.protocols.home_routines import MIN_LEVEL, Personalisation
from microamp.protocols.validate import plan_protocol
from microamp.session import Operator
from microamp.station import StoreSessions
from microamp.station.live import SessionEnded, StartRequest
from microamp.station.remote import RemoteSession
from microamp.store.daily_time import check_daily_time, planned_seconds
from microamp.store.home import home_gate, home_operator
from microamp.store.home_models import HomeAccount
from microamp.store.session_models import TreatmentSession
from microamp.web.home.routines import HOME_PROFILE, Routine, routine_for
from microamp.web.home.session import AccountDep, DbDep, csrf_ok, home_page, today_of
from microamp.web.lanes import sessions_for

__all__ = ["router"]

router = APIRouter()


def _live(request: Request) -> StoreSessions | None:
    """The sessions of this app's station (its Stop's through the urgent lane), or None in
    an app without a device."""
    if getattr(request.app.state, "live", None) is None:
        return None
    return sessions_for(request)


def _own(request: Request, account: HomeAccount, live_id: str) -> RemoteSession:
    """Her session ``live_id``, or 404 (another record's session is nobody's business here)."""
    sessions = _live(request)
    found = sessions.get(live_id) if sessions is not None else None
    if found is None or found.request.client_id != account.client_id:
        raise HTTPException(404, "No such session on this device.")
    return found


def _ended(live: RemoteSession) -> dict[str, Any]:
    """The session's end event as the runner wrote it (status, reason, charge), or {}."""
    for _n, kind, data in reversed(live.messages_since(0)):
        if kind == "event" and data.get("kind") == "ended":
            return dict(data)
    return {}


def _operator(db: Any, account: HomeAccount) -> Operator:
    user = home_operator(db, account)
    return Operator(user.display_name, user.id, "home")


def _day_refusal(db: Any, account: HomeAccount, routine: Routine, today: date) -> Any:
    """Why the routine, as she runs it, would pass today's limit, or None; the station
    refuses it anyway (`microamp.store.daily_time`)."""
    if routine.protocol is None:
        return None
    planned_s = planned_seconds(plan_protocol(routine.protocol, HOME_PROFILE))
    try:
        check_daily_time(db, client_id=account.client_id, planned_s=planned_s, on=today)
    except InvalidValue as refused:
        return refused
    return None


@router.get("/device/{name}")
def device_page(request: Request, db: DbDep, account: AccountDep, name: str) -> Response:
    routine = routine_for(db, account, name)
    today = today_of(request)
    decision = home_gate(db, account, on=today)
    return home_page(
        request, "device.html", account, title=f"{routine.title} on the device",
        routine=routine, decision=decision, connected=_live(request) is not None,
        refusal=_day_refusal(db, account, routine, today), skipped=account.skipped,
        zone_levels=account.zone_levels, device_url=request.app.state.settings.device_url,
        live=None, state=None, ended={}, personal={}, run_steps=(),
    )  # fmt: skip


@router.post("/device/{name}/start")
def device_start(
    request: Request,
    db: DbDep,
    account: AccountDep,
    name: str,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    csrf_ok(request, csrf_token)
    sessions = _live(request)
    if sessions is None:
        raise InvalidValue("device", None, "start the app with microamp home --device URL")
    routine = routine_for(db, account, name)
    if routine.protocol is None:
        raise InvalidValue("routine", name, routine.error)
    operator = _operator(db, account)
    db.commit()  # the operator exists before the station looks her up
    url = request.app.state.settings.device_url
    personal = Personalisation.of(account.skipped, account.zone_levels,
                                  routine.protocol.content_hash())  # fmt: skip
    start = StartRequest(account.client_id, account.display_name, routine.name, url, 1.0,
                         operator.user_id or 0, personal=personal)  # fmt: skip
    live = sessions.start(start, on=today_of(request), operator=operator)
    return RedirectResponse(f"/device/live/{live.id}", status_code=303)


@router.get("/device/live/{live_id}")
def device_live(request: Request, db: DbDep, account: AccountDep, live_id: str) -> Response:
    live = _own(request, account, live_id)
    record = db.get(TreatmentSession, live.record_id) if live.record_id else None
    return home_page(
        request, "device.html", account, title="Device session", routine=None,
        decision=home_gate(db, account, on=today_of(request)), connected=True,
        device_url=live.request.device_url, live=live, state=live.state(),
        ended=_ended(live), personal=record.personalisation if record is not None else {},
        run_steps=live.planned(),  # the protocol the station runs, whatever she edits since
    )  # fmt: skip


@router.post("/device/live/{live_id}/stop")
def device_stop(
    request: Request,
    db: DbDep,
    account: AccountDep,
    live_id: str,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    csrf_ok(request, csrf_token)
    live = _own(request, account, live_id)
    operator = _operator(db, account)
    db.commit()
    if not live.done:
        live.control("stop", operator)
    return RedirectResponse(f"/device/live/{live_id}", status_code=303)


@router.post("/device/live/{live_id}/level")
def device_level(
    request: Request,
    db: DbDep,
    account: AccountDep,
    live_id: str,
    level: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Her level (a fraction of her own zone levels, which are its top) from the runner's next
    tick, through the station's level control in her name."""
    csrf_ok(request, csrf_token)
    live = _own(request, account, live_id)
    try:
        value = float(level)
    except ValueError:
        value = math.nan
    if not MIN_LEVEL <= value <= 1.0:
        raise InvalidValue("level", level, f"a level of {MIN_LEVEL:g}-1 of your own")
    operator = _operator(db, account)
    db.commit()
    try:
        live.set_intensity(value, operator)
    except SessionEnded:
        pass  # over already: the page says so, and there is no output to change
    return RedirectResponse(f"/device/live/{live_id}", status_code=303)


@router.get("/api/device/{live_id}")
def device_state(request: Request, account: AccountDep, live_id: str) -> Response:
    live = _own(request, account, live_id)
    state = live.state()
    step = state.get("step") or {}
    ended = _ended(live) if state["done"] else {}
    return JSONResponse({
        "reason": ended.get("reason", ""),
        "status": state["status"], "done": state["done"], "record_id": state["record_id"],
        "step": step.get("label", ""), "remaining_s": state.get("remaining_s"),
        "steps_completed": state.get("steps_completed"), "steps_total": state.get("steps_total"),
        "level": state.get("intensity"), "error": live.error,
    })  # fmt: skip
