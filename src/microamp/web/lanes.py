"""The urgent lane: a Stop never waits behind page loads for a connection to the store.

A web worker's pool may be set smaller than its request threads (a PostgreSQL server with few
connections to share among many workers); a page load that then finds every connection taken
is answered 503 at once, to be sent again. A Stop must not be: it needs a dozen short trips to
the store (the signed-in session, the user, the control and its answer, the audit row), and a
pool that page loads keep empty would refuse one of them nearly every time. So a Stop, from
the cookie's lookup to its audit row, runs on a small pool of its own (`URGENT_CONNECTIONS`,
each waited for up to `URGENT_WAIT_S`: Stops are few, and a wait beats a refusal).

Which requests are Stops is decided here, once, from the method and the path; `store_for` and
`sessions_for` are how every dependency of both apps picks its store.

A connection of its own is not enough under load: a worker's request threads share one
interpreter, and forty page renders beside a Stop leave it a fortieth of it. So `PageAdmission`
lets at most ``page_concurrency`` other requests into a worker's app at once; the rest wait
their turn on the event loop, where waiting costs nothing, and a Stop walks past them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microamp.station import StoreSessions
from microamp.store.db import Store

__all__ = [
    "PageAdmission",
    "URGENT_CONNECTIONS",
    "URGENT_WAIT_S",
    "UrgentLane",
    "is_urgent",
    "sessions_for",
    "store_for",
]

URGENT_CONNECTIONS = 3
URGENT_WAIT_S = 5.0

# the Stop of the API, of the clinic console and of the home app's device page
_STOP_PATHS = re.compile(r"/(?:api/v1/sessions|live|device/live)/[^/]{1,64}/stop")


def is_urgent(scope: Mapping[str, Any]) -> bool:
    """Whether an HTTP request is a Stop."""
    return scope.get("method") == "POST" and bool(_STOP_PATHS.fullmatch(scope.get("path", "")))


class UrgentLane:
    """The urgent lane of one app: its store (a pool apart from the pages') and the sessions
    seen through it. Close it when the app stops."""

    def __init__(self, store: Store, sessions: StoreSessions) -> None:
        self.store = store.apart(URGENT_CONNECTIONS, timeout_s=URGENT_WAIT_S)
        self.sessions = StoreSessions(self.store, ring=sessions.ring, answer_s=sessions.answer_s,
                                      wall=sessions.wall)  # fmt: skip

    def close(self) -> None:
        self.store.close()


def _lane(request: Request) -> UrgentLane | None:
    lane: UrgentLane | None = getattr(request.app.state, "urgent", None)
    return lane if lane is not None and is_urgent(request.scope) else None


def store_for(request: Request) -> Store:
    """The store this request reads and writes through: the urgent lane's for a Stop."""
    lane = _lane(request)
    store: Store = request.app.state.store if lane is None else lane.store
    return store


def sessions_for(request: Request) -> StoreSessions:
    """The sessions under way as this request sees them: through the urgent lane for a Stop."""
    lane = _lane(request)
    sessions: StoreSessions = request.app.state.live if lane is None else lane.sessions
    return sessions


class PageAdmission:
    """ASGI middleware: at most ``limit`` HTTP requests other than Stops run in the app at once,
    each from its admission until its response starts (a page is rendered by then; an event
    stream or a download then streams without holding a place). The others wait in arrival
    order; a Stop is never made to wait."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.app = app
        self.limit = limit
        self._gate: anyio.Semaphore | None = None

    def _places(self) -> anyio.Semaphore:
        # made on first use: inside the event loop that serves the requests
        if self._gate is None:
            self._gate = anyio.Semaphore(self.limit)
        return self._gate

    @property
    def admitted(self) -> int:
        """Requests in the app now, their responses not yet started (Stops not counted)."""
        return 0 if self._gate is None else self.limit - self._gate.value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_urgent(scope):
            await self.app(scope, receive, send)
            return
        gate = self._places()
        await gate.acquire()
        held = True

        def leave() -> None:
            nonlocal held
            if held:
                held = False
                gate.release()

        async def send_and_leave(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, send_and_leave)
        finally:
            leave()
