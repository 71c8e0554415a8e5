"""`RecordWriter`: a session's record written in a thread of its own, so the runner never
waits on the store.

The runner's subscribers (`event`, `telemetry`) only append to a queue and return: the device
loop's timing never depends on the database. The writer thread takes whatever has queued since
its last write, in the order it was emitted, and hands it to the `SessionRecorder` as one batch:
every event in one transaction, then (only when no event waits) a telemetry chunk. An event,
a Stop or a fault among them, so never queues behind a telemetry write; at most the one chunk
transaction already under way is ahead of it.

A store that fails is the recorder's business as before: a lost link sends that write and every
later one to the session's journal (`microamp.store.journal`), so the record plus the journal
hold each event exactly once, in order.

The bound: the oldest item not yet written may be at most `MAX_LAG_S` (wall seconds) old. A
store connection whose request goes unanswered for longer than ``station_hold_s`` (1 s) is cut
as dead, and the write then goes to the journal at local-disk speed, so a store that stops
answering leaves the writer about a second behind. Twice that means the writer itself cannot keep up (a store that answers, but
more slowly than the session writes, or a journal disk that does not fsync in time): the record
every console and recovery read no longer says what the device does, so ``on_fault`` gets a
`FaultCode.RECORD_FAILED` fault (the runner zeroes output) once. Nothing queued is ever dropped:
past the bound the session ends, so the queue stops growing and drains.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from microamp.errors import StoreError
from microamp.safety.faults import Fault, FaultCode
from microamp.store.recording import END_KINDS, SessionRecorder

if TYPE_CHECKING:
    from microamp.session import SessionRunner

__all__ = ["MAX_LAG_S", "RecordWriter"]

MAX_LAG_S = 2.0
_log = logging.getLogger(__name__)
# one queued item: when it was queued (monotonic s), whether it is an event, the item
_Item = tuple[float, bool, object]


def _is_end(event: object) -> bool:
    kind = event.get("kind") if isinstance(event, Mapping) else getattr(event, "kind", None)
    return kind in END_KINDS


class RecordWriter:
    """Writes ``recorder``'s session from a thread; `close` waits until all is written."""

    def __init__(
        self,
        recorder: SessionRecorder,
        *,
        max_lag_s: float = MAX_LAG_S,
        on_fault: Callable[[Fault], None] = lambda _fault: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.max_lag_s = max_lag_s
        self.error = ""
        self._on_fault = on_fault
        self._monotonic = monotonic
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        # when the oldest item not yet written was queued (None: all written)
        self._since_s: float | None = None
        self._closed = False
        self._faulted = False
        self._flush_due = False
        self.batches = 0
        self.thread = threading.Thread(
            target=self._run, name=f"record-{recorder.session_id}", daemon=True
        )
        self.thread.start()

    @classmethod
    def attach(
        cls, recorder: SessionRecorder, runner: SessionRunner, *, max_lag_s: float = MAX_LAG_S
    ) -> RecordWriter:
        """A writer for ``runner``'s session: its events and telemetry queued here, a record
        behind its bound a fault of the runner's (output zero). Every path that records a
        session (a station's, ``microamp run --client``) records through this."""
        writer = cls(recorder, max_lag_s=max_lag_s, on_fault=runner.fault)
        runner.subscribe(writer.event)
        runner.subscribe_telemetry(writer.telemetry)
        return writer

    # -- the runner's side (never waits on the store) ------------------------------------------

    def event(self, event: object) -> None:
        self._put(True, event)

    def telemetry(self, frame: object) -> None:
        self._put(False, frame)

    def lag_s(self) -> float:
        """How long the oldest item not yet written has waited (0 when all is written)."""
        with self._cond:
            since = self._since_s
        return 0.0 if since is None else max(0.0, self._monotonic() - since)

    def _put(self, is_event: bool, item: object) -> None:
        now = self._monotonic()
        with self._cond:
            if self._since_s is None:
                self._since_s = now
            self._queue.append((now, is_event, item))
            self._cond.notify()
            lag_s = now - self._since_s
        if lag_s > self.max_lag_s:
            self._fault(f"the record is {lag_s:.1f} s behind (bound {self.max_lag_s:g} s)")

    def _fault(self, reason: str) -> None:
        if self._faulted:
            return
        self._faulted = True
        _log.error("record %s: %s; stopping output", self.recorder.session_id, reason)
        self._on_fault(Fault.of(FaultCode.RECORD_FAILED, detail={"reason": reason}))

    # -- the end -------------------------------------------------------------------------------

    def close(self, timeout_s: float | None = None) -> bool:
        """Write what is queued, then stop the thread; whether it finished in ``timeout_s``."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self.thread.join(timeout_s)
        return not self.thread.is_alive()

    # -- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            self._write(batch)
            with self._cond:
                self._since_s = self._queue[0][0] if self._queue else None
        if self._flush_due:
            self._flush()

    def _take(self) -> list[_Item] | None:
        """Everything queued, in order, once there is something (None: closed and written)."""
        with self._cond:
            while not self._queue and not self._closed:
                # a chunk waits for a moment with no event queued: this is that moment
                if self._flush_due:
                    return []
                self._cond.wait()
            if not self._queue:
                return None
            batch = list(self._queue)
            self._queue.clear()
            return batch

    def _write(self, batch: list[_Item]) -> None:
        self.batches += 1
        events: list[object] = []
        for _queued_s, is_event, item in batch:
            if not is_event:
                # frames are only buffered here (no store write); the end's final chunk takes
                # every frame queued before it
                self._flush_due = self._guarded(self.recorder.buffer_telemetry, item) is True
                continue
            events.append(item)
            if _is_end(item):
                self._guarded(self.recorder.record_events, events)
                events = []
                self._flush_due = False  # the end wrote the last chunk with the record's close
        if events:
            self._guarded(self.recorder.record_events, events)
        if self._flush_due and not self._events_waiting():
            self._flush()

    def _flush(self) -> None:
        self._flush_due = False
        if self.recorder.status == "running":  # a closed record takes no more chunks
            self._guarded(self.recorder.flush_telemetry)

    def _events_waiting(self) -> bool:
        with self._cond:
            return any(is_event for _s, is_event, _item in self._queue)

    def _guarded(self, write: Callable[..., Any], *args: Any) -> Any:
        """One write; a store that refuses it (the record was closed elsewhere, a link lost
        without a journal) ends the session: output stops, the reason is kept."""
        try:
            return write(*args)
        except StoreError as exc:
            self._refused(str(exc))
        except Exception as exc:  # the writer must outlive any one write
            self._refused(f"{type(exc).__name__}: {exc}")
        return None

    def _refused(self, reason: str) -> None:
        self.error = self.error or reason
        self._fault(f"the store refused the record: {reason}")
