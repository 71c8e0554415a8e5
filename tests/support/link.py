"""A TCP proxy a test can cut: a station talks to PostgreSQL through it, and `cut` closes every
connection through it and refuses new ones (the cable pulled) until `restore`; `silence` keeps
every connection open and new ones accepted but carries nothing either way (a peer gone quiet,
no reset: only a timeout can tell)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType


class Link:
    """Forwards 127.0.0.1:`port` to ``upstream`` while up."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.quiet = threading.Event()
        self.restore()

    def silence(self) -> None:
        """From now on nothing passes, in either direction; nothing is closed."""
        self.quiet.set()

    def restore(self) -> None:
        """Take connections again (and carry data again after `silence`)."""
        self.quiet.clear()
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listener and every connection through it: both ends see a reset."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            listener.close()
        for sock in sockets:
            # linger 0 and a shutdown: a reset now, and the pump blocked on it wakes up
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _address = listener.accept()
            except OSError:
                return  # cut
            try:
                far = socket.create_connection(self.upstream)
            except OSError:
                near.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    near.close()
                    far.close()
                    return
                self._sockets += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=_pump, args=(a, b, self.quiet), daemon=True).start()

    def __enter__(self) -> Link:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cut()


def _pump(source: socket.socket, sink: socket.socket, quiet: threading.Event) -> None:
    try:
        while data := source.recv(65536):
            if not quiet.is_set():
                sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
