"""`Sweeper`: `microamp.store.stations.sweep` every `SWEEP_S`, in a thread of a web worker.

Stations sweep in their own loop; web workers sweep too, so a station killed while nobody else
runs ends its session (and its record becomes ``interrupted``) within the stated bound, not at
the next process start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from microamp.store.base import utc_now
from microamp.store.db import Store
from microamp.store.stations import SWEEP_S, sweep

__all__ = ["Sweeper"]

_log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        store: Store,
        *,
        interval_s: float = SWEEP_S,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self._wall = wall
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def sweep_now(self) -> dict[str, list[object]]:
        with self.store.transaction() as db:
            return sweep(db, now=self._wall())

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                self.sweep_now()
            except SQLAlchemyError as exc:
                _log.warning("the sweep could not reach the store: %s", exc)
