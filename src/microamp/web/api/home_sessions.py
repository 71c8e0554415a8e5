"""Home sessions: what a client did at home with the home app (`microamp home`), read by the
clinic. A guided session's device was not connected: its steps are as the phone timed them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from microamp.store.home import home_sessions
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["home"])
_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")


@router.get("/clients/{client_id}/home-sessions", responses=_ID)
def list_home_sessions(user: ApiUser, db: DbDep, client_id: RowId) -> list[dict[str, Any]]:
    """A client's home sessions, newest first: the day, the routine and its hash, guided or on
    a device, whether a device was connected, the seconds and steps done, how it ended."""
    rows = home_sessions(db, client_id=client_id)
    audit(db, user, "read", f"client:{client_id}/home-sessions", client_id=client_id)
    return [
        {
            "id": r.id,
            "on_date": r.on_date.isoformat(),
            "protocol": r.protocol_name,
            "protocol_hash": r.protocol_hash,
            "mode": r.mode,
            "device_connected": r.device_connected,
            "recorded_as": "guided, device not connected" if not r.device_connected else r.mode,
            "seconds_done": r.seconds_done,
            "steps_done": r.steps_done,
            "status": r.status,
            "cues": r.cues,
        }
        for r in rows
    ]
