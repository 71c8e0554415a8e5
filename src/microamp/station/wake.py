"""`Listener`: PostgreSQL LISTEN on the stations' channel, ringing a bell for this station.

A control written by any web worker NOTIFYs its station's name on commit; the station wakes at
once instead of at its next poll. The poll stays as the fallback (and is all SQLite has).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import URL

from microamp.store.stations import CHANNEL

__all__ = ["Listener"]

_RETRY_S = 1.0
_log = logging.getLogger(__name__)


class Listener:
    """Rings ``bell`` whenever a NOTIFY names ``name``, until `stop`."""

    def __init__(self, url: URL, name: str, bell: threading.Event) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.name = name
        self.bell = bell
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"listen-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self.thread.join(5)

    def _run(self) -> None:
        import psycopg

        while not self._stopped.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.bell.set()  # anything sent while not listening is found by this poll
                    while not self._stopped.is_set():
                        for note in connection.notifies(timeout=0.5):
                            if note.payload == self.name:
                                self.bell.set()
            except psycopg.Error as exc:
                _log.warning("listening for controls failed (polling meanwhile): %s", exc)
                self._stopped.wait(_RETRY_S)
