"""Device mode: her routine on a device microamp drives, through the embedded station.

`microamp home --device sim://` runs a station in this process as `microamp serve` does; a
routine here is a start control to it, so the station's rules all apply: the home profile of
the protocol, the clinic's gate for her record (`client_prechecks`), the device lease, the
charge account. She is the operator (her account's `home` user, `home_operator`) of her own
record only: the station refuses any other (`check_home_operator`). Device mode runs the
library's home routines as written (the station runs stored protocols by name; a routine she
built, or her skipped zones, run in guide mode). The Stop button is a plain form (it works
without script) and is on the page at every step; `home_device.js` polls the state and says
Stop and faults in a live region.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from microamp.errors import InvalidValue
from microamp.protocols.validate import plan_protocol
from microamp.session import Operator
from microamp.station import StoreSessions
from microamp.station.live import StartRequest
from microamp.station.remote import RemoteSession
from microamp.store.daily_time import check_daily_time, planned_seconds
from microamp.store.home import home_gate, home_operator
from microamp.store.home_models import HomeAccount
from microamp.web.home.routines import HOME_PROFILE, Routine, routine_for
from microamp.web.home.session import AccountDep, DbDep, csrf_ok, home_page, today_of

__all__ = ["router"]

router = APIRouter()


def _live(request: Request) -> StoreSessions | None:
    live: StoreSessions | None = getattr(request.app.state, "live", None)
    return live


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
    """Why the routine, as the station runs it (the library's, whole), would pass today's
    limit, or None; the station refuses it anyway (`microamp.store.gating`)."""
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
        refusal=_day_refusal(db, account, routine, today),
        device_url=request.app.state.settings.device_url, live=None, state=None, ended={},
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
    if routine.source != "library" or routine.protocol is None:
        raise InvalidValue("routine", name, "device mode runs the library's home routines; "
                           "run your own in guide mode")  # fmt: skip
    operator = _operator(db, account)
    db.commit()  # the operator exists before the station looks her up
    url = request.app.state.settings.device_url
    start = StartRequest(account.client_id, account.display_name, routine.protocol.name, url,
                         1.0, operator.user_id or 0)  # fmt: skip
    live = sessions.start(start, on=today_of(request), operator=operator)
    return RedirectResponse(f"/device/live/{live.id}", status_code=303)


@router.get("/device/live/{live_id}")
def device_live(request: Request, db: DbDep, account: AccountDep, live_id: str) -> Response:
    live = _own(request, account, live_id)
    return home_page(
        request, "device.html", account, title="Device session", routine=None,
        decision=home_gate(db, account, on=today_of(request)), connected=True,
        device_url=live.request.device_url, live=live, state=live.state(),
        ended=_ended(live),
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
        "error": live.error,
    })  # fmt: skip
