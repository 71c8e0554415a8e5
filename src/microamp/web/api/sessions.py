"""Sessions under way: start one for a client (the gate decides), read its state, change its
level, stop it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as FastAPIPath
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from microamp.session.controls import Action
from microamp.station import RemoteSession, SessionEnded, StartRequest, StoreSessions
from microamp.store.base import utc_now
from microamp.store.crud import gate_client, get_client
from microamp.store.daily_time import client_day
from microamp.store.models import User
from microamp.web.api.models import LivePublic, SessionStart
from microamp.web.api.responses import Responses, conflict, invalid, unavailable
from microamp.web.deps import ApiUser, DbDep, SettingsDep, audit
from microamp.web.live import live_sessions, operator_of
from microamp.web.pages.console_choice import device_choices

router = APIRouter(tags=["sessions"])

# a session's id is 16 hex digits; anything much longer names none and is refused unread
LiveId = Annotated[str, FastAPIPath(min_length=1, max_length=64)]
_LIVE_ID = invalid("`live_id` is over 64 characters")
_STATION = unavailable("The session's station did not answer within 10 s (it is offline)")


def _steered(what: str) -> Responses:
    """A control's documented answers: its 409 in its own words, the station's 503."""
    refused = f"The station refused the control to {what} the session, saying why"
    return {**_LIVE_ID, **_STATION, **conflict(refused)}


# A stop returns once output is zero and the device free; a ramp-down takes well under this.
_STOP_WAIT_S = 10.0


def _sessions(request: Request) -> StoreSessions:
    return live_sessions(request)


def _public(live: RemoteSession) -> LivePublic:
    state = live.state()
    return LivePublic(
        id=live.id,
        client_id=live.request.client_id,
        protocol=live.request.protocol,
        record_id=live.record_id,
        station=live.station,
        state=state,
    )


@router.get("/sessions")
def running(request: Request, user: ApiUser, db: DbDep) -> list[dict[str, object]]:
    """The sessions under way, with their clients' names: a read of each client's record."""
    under_way = list(_sessions(request).snapshot())
    clients = sorted({int(s["client_id"]) for s in under_way})
    # audit details are flat values: the clients' ids as one comma-separated string
    audit(db, user, "read", "sessions", clients=",".join(str(c) for c in clients))
    return under_way


@router.post(
    "/sessions",
    status_code=201,
    responses={
        **invalid(
            "`device_url` is not a listed device, `protocol` is not a protocol name, `intensity` is not above 0 and at most 1, or `practitioner_max_ua` is not 10-1000"
        ),
        **conflict(
            "The client may not be treated now (screening, consent or clearance), with every reason; or the device is in use, naming the session that holds it",
            reasons=True,
        ),
        **unavailable("No station is online for the device, or it did not answer within 10 s"),
    },
)
def start(
    request: Request, user: ApiUser, db: DbDep, settings: SettingsDep, body: SessionStart
) -> LivePublic:
    """Start a session on the station of ``device`` (a station's name) or of ``device_url``
    (by default the clinic's device). Refused with 409 and the reasons when the client may
    not be treated, or naming the device and the session that holds it when the device is in
    use; 503 when its station is offline. The runner checks screening and consent again
    before any current."""
    client = get_client(db, client_id=body.client_id)
    stations = _sessions(request).stations()
    named = next((s for s in stations if s.name == body.device), None)
    url = body.device_url or (named.device_url if named else settings.device_url)
    if url not in device_choices(settings, stations):
        raise HTTPException(422, [{"loc": ["body", "device_url"], "msg": "not a listed device",
                                   "type": "invalid_value", "input": url}])  # fmt: skip
    today = client_day(db, now=utc_now())  # her day in the clinic's time zone
    decision = gate_client(db, client_id=client.id, on=today)
    if not decision.allowed:
        audit(db, user, "read", f"client:{client.id}/gate", client_id=client.id, allowed=False)
        decision.raise_if_refused()
    live = _sessions(request).start(
        StartRequest(
            client.id,
            client.full_name,
            body.protocol,
            url,
            body.intensity,
            user.id,
            body.practitioner_max_ua,
        ),  # fmt: skip
        on=today,
        operator=operator_of(user, "api"),
        station=body.device,
    )
    audit(db, user, "write", f"client:{client.id}/session", client_id=client.id,
          record_id=live.record_id, protocol=body.protocol)  # fmt: skip
    return _public(live)


def _live(request: Request, live_id: str) -> RemoteSession:
    live = _sessions(request).get(live_id)
    if live is None:
        raise HTTPException(404, f"no session {live_id} under way")
    return live


def _audit_session(db: Session, user: User, live: RemoteSession, **detail: object) -> None:
    """A read of the client's session, or a control (a write) with what it set."""
    audit(db, user, "read" if not detail else "write",
          f"client:{live.request.client_id}/session", client_id=live.request.client_id,
          record_id=live.record_id, **detail)  # fmt: skip


@router.get("/sessions/{live_id}", responses=_LIVE_ID)
def session_state(request: Request, user: ApiUser, db: DbDep, live_id: LiveId) -> LivePublic:
    live = _live(request, live_id)
    _audit_session(db, user, live)
    return _public(live)


@router.get("/stations")
def stations(request: Request, user: ApiUser) -> list[dict[str, object]]:
    """The registered stations (one per device): online while their heartbeat is fresh, busy
    while they run a session."""
    return [s.to_dict() for s in _sessions(request).stations()]


def _steer(request: Request, user: User, db: Session, live_id: str, action: Action) -> LivePublic:
    live = _live(request, live_id)
    live.control(action, operator_of(user, "api"))
    _audit_session(db, user, live, control=action)
    return _public(live)


@router.post("/sessions/{live_id}/pause", responses=_steered("pause"))
def pause(request: Request, user: ApiUser, db: DbDep, live_id: LiveId) -> LivePublic:
    """Pause: output ramps to zero and stays there until resumed; returns once the station
    has done it."""
    return _steer(request, user, db, live_id, "pause")


@router.post("/sessions/{live_id}/resume", responses=_steered("resume"))
def resume(request: Request, user: ApiUser, db: DbDep, live_id: LiveId) -> LivePublic:
    return _steer(request, user, db, live_id, "resume")


@router.post("/sessions/{live_id}/stop", responses=_steered("stop"))
def stop(request: Request, user: ApiUser, db: DbDep, live_id: LiveId) -> LivePublic:
    """Stop the session; returns once its output is zero and its device free for the next."""
    live = _live(request, live_id)
    live.control("stop", operator_of(user, "api"))
    live.wait(_STOP_WAIT_S)
    _audit_session(db, user, live, control="stop")
    return _public(live)


class IntensityChange(BaseModel):
    """The session's new level: 0-1 of each step's requested current, before any limit."""

    model_config = ConfigDict(extra="forbid")

    level: float = Field(ge=0, le=1, allow_inf_nan=False)


@router.post(
    "/sessions/{live_id}/intensity",
    responses={
        **invalid("`level` is not 0-1, or `live_id` is over 64 characters"),
        **conflict("The session has already ended: its level can no longer change"),
        **_STATION,
    },
)
def intensity(
    request: Request, user: ApiUser, db: DbDep, live_id: LiveId, body: IntensityChange
) -> LivePublic:
    """Set the level; the runner wakes to it at once. The state returned may still show the old
    one; ``intensity_changed`` in the record (and the live view) says what it gave and which
    limit, if any, capped it. 409 once the session has ended."""
    live = _live(request, live_id)
    try:
        live.set_intensity(body.level, operator_of(user, "api"))
    except SessionEnded as exc:
        raise HTTPException(409, str(exc)) from None
    _audit_session(db, user, live, control="intensity", level=body.level)
    return _public(live)
