"""`Publisher`: writes a running session's live view to the store, a few times a second.

Whatever the session's thread pushed since the last write (events, thinned telemetry, its end)
and its state now go in one short transaction, so any web worker serves the console, the stream
and the API from the store. A write that fails is kept and sent with the next one: a link to
the store that comes back loses nothing of the live view.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from microamp.session import Operator
from microamp.station.live import LiveSession
from microamp.store.base import utc_now
from microamp.store.db import Store
from microamp.store.stations import append_live

__all__ = ["PUBLISH_S", "Publisher"]

# Wall seconds between writes of a session's live view.
PUBLISH_S = 0.2
_SWEPT = Operator("the store's sweep (the station was taken for gone)", None, "station")
_log = logging.getLogger(__name__)


class Publisher:
    """Publishes one `LiveSession` until it ends; `thread` runs it."""

    def __init__(
        self,
        store: Store,
        live: LiveSession,
        *,
        interval_s: float = PUBLISH_S,
        wall: Callable[[], datetime] = utc_now,
        on_done: Callable[[LiveSession], None] = lambda _live: None,
    ) -> None:
        self.store = store
        self.live = live
        self.interval_s = interval_s
        self._wall = wall
        self._on_done = on_done
        self._cursor = 0
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"publish-{live.id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def publish_once(self) -> bool:
        """One write of what is new; whether the session's live view is complete (ended)."""
        with self._lock:
            return self._publish()

    def _publish(self) -> bool:
        live = self.live
        done = live.done  # read first: once set, every message, the end too, is already pushed
        fresh = live.messages_since(self._cursor)
        state = live.state()
        try:
            with self.store.transaction() as db:
                kept = append_live(
                    db, live.id, now=self._wall(),
                    messages=[(name, data) for _seq, name, data in fresh],
                    state=state, status=state["status"], record_id=live.record_id,
                    done=done, error=live.error,
                )  # fmt: skip
        except SQLAlchemyError as exc:
            _log.warning("the live view of %s waits for the store: %s", live.id, exc)
            return False
        self._cursor += len(fresh)
        if not kept and not done:
            # the store ended it for us (the station was taken for gone): nobody watches it
            live.runner.stop(_SWEPT)
        return done or not kept

    def _run(self) -> None:
        try:
            while not self.publish_once():
                threading.Event().wait(self.interval_s)
        finally:
            self._on_done(self.live)
