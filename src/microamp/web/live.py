"""The sessions under way as the pages and the API see them: `app.state.live`, a
`microamp.station.StoreSessions` (a Stop's through the urgent lane); and the signed-in user as a control's operator."""

from __future__ import annotations

from fastapi import Request

from microamp.session import Operator
from microamp.station import StoreSessions
from microamp.store.models import User
from microamp.web.lanes import sessions_for

__all__ = ["live_sessions", "operator_of"]


def operator_of(user: User, via: str) -> Operator:
    """The signed-in user as the operator of a control (``via`` "web" or "api")."""
    return Operator(user.display_name, user.id, via)


def live_sessions(request: Request) -> StoreSessions:
    """The sessions under way, seen through the urgent lane for a Stop (`microamp.web.lanes`)."""
    return sessions_for(request)
