"""Signed heads of the audit chain, appended to a JSON-lines file outside the database.

Each line holds the chain head (``seq``, ``seal``), the row count, how many leading rows are
legacy (unkeyed), the time, the signature of the line before, and an HMAC over all of that with
the audit key. Someone with only the database login cannot remove the rows a checkpoint saw, empty
the table, or recompute the chain (with plain hashes or another key) without the latest
checkpoint's head disappearing or changing. Rows added after the latest checkpoint and then
deleted are the one thing a checkpoint cannot see: write them often (`microamp serve` does).

A checkpoint is written only after the whole chain verified, so it also vouches for every row up
to its head. `verify_since_checkpoint` builds on that: it checks the latest line's signature,
that its head row still carries the signed seal, that no row before it is gone, and walks only
the rows after it, so its cost grows with the rows since the checkpoint, not with the log. What
it cannot see is a row before the checkpoint edited in place with its old seal left on; the full
`verify_with_checkpoints` (``microamp audit verify``, and every checkpoint written) does.

Several workers sharing a data directory each write checkpoints (every few minutes, and at
shutdown, often at the same moment). Each checks the chain, reads the last line and appends one
that follows it while holding an exclusive lock (``flock`` on ``<file>.lock`` beside it), so two
never follow the same line and the file stays one chain.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.access import AuditEntry, AuditVerdict, ChainStart, verify_audit_chain
from microamp.store.audit_key import session_audit_key
from microamp.store.base import utc_now
from microamp.store.files import PRIVATE_FILE_MODE, private_dir

if TYPE_CHECKING:
    from microamp.store.db import Store

__all__ = [
    "Checkpoint",
    "CheckpointWriter",
    "ChainReport",
    "verify_since_checkpoint",
    "verify_with_checkpoints",
    "write_checkpoint",
]

_GENESIS_SIG = "0" * 64
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed line of the checkpoint file."""

    seq: int
    seal: str
    rows: int
    legacy_rows: int
    at: str
    prev_sig: str
    sig: str

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "seal": self.seal, "rows": self.rows,
                "legacy_rows": self.legacy_rows, "at": self.at, "prev_sig": self.prev_sig}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The chain's verdict together with what the checkpoints say about it."""

    chain: AuditVerdict
    checkpoints: int
    problem: str = ""
    # rows 1..verified_from_seq were vouched for by the checkpoint signed at checkpoint_at, not
    # walked again; 0: every row was walked now
    verified_from_seq: int = 0
    checkpoint_at: str = ""

    @property
    def intact(self) -> bool:
        return self.chain.intact and not self.problem


def _sign(key: bytes, body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, b"checkpoint:" + text, hashlib.sha256).hexdigest()


def read_checkpoints(path: Path) -> list[dict[str, Any]]:
    """The file's lines as parsed JSON (a line that is not JSON is kept as an empty dict)."""
    if not path.is_file():
        return []
    lines: list[dict[str, Any]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {}
        lines.append(parsed if isinstance(parsed, dict) else {})
    return lines


def write_checkpoint(session: Session, path: Path, *, key: bytes | None = None) -> Checkpoint:
    """Append the current head of an intact chain to ``path`` (created 0600). A broken chain is
    refused: signing it would vouch for the damage."""
    key = session_audit_key(session) if key is None else key
    with _exclusive(path):
        report = verify_with_checkpoints(session, path, key=key)
        if not report.intact:
            raise ValueError(f"the audit log is broken, no checkpoint written: {_describe(report)}")
        lines = read_checkpoints(path)
        prev_sig = str(lines[-1].get("sig", _GENESIS_SIG)) if lines else _GENESIS_SIG
        point = _signed(key, report.chain, prev_sig)
        _append_line(path, json.dumps({**point.body(), "sig": point.sig}, sort_keys=True))
    return point


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Every other writer of ``path`` on this host kept out until the block ends."""
    private_dir(path.parent)
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _append_line(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _signed(key: bytes, verdict: AuditVerdict, prev_sig: str) -> Checkpoint:
    at = utc_now().isoformat(timespec="seconds")
    unsigned = Checkpoint(seq=verdict.head_seq, seal=verdict.head_seal, rows=verdict.rows,
                          legacy_rows=verdict.legacy_rows, at=at, prev_sig=prev_sig, sig="")  # fmt: skip
    return Checkpoint(**{**unsigned.body(), "sig": _sign(key, unsigned.body())})


def verify_with_checkpoints(
    session: Session, path: Path, *, key: bytes | None = None
) -> ChainReport:
    """Every seal and link, then every checkpoint's signature and order, then that the latest
    checkpoint's head is still in the table with the same seal."""
    key = session_audit_key(session) if key is None else key
    verdict = verify_audit_chain(session, key=key)
    lines = read_checkpoints(path)
    problem = _check_lines(key, lines)
    if not problem and lines:
        problem = _check_head(session, verdict, lines[-1])
    return ChainReport(chain=verdict, checkpoints=len(lines), problem=problem)


def verify_since_checkpoint(
    session: Session, path: Path, *, key: bytes | None = None
) -> ChainReport:
    """The chain from the latest signed checkpoint on: that line's signature, its head row's
    seal, the count of rows up to it, then every row after it, seal by seal. Without a
    checkpoint (or with a latest line that does not hold) the whole chain is verified."""
    key = session_audit_key(session) if key is None else key
    lines = read_checkpoints(path)
    if not lines or _check_lines(key, lines[-1:], first_prev_sig=None):
        return verify_with_checkpoints(session, path, key=key)
    latest = lines[-1]
    seq, seal = int(latest["seq"]), str(latest["seal"])
    start = ChainStart(seq=seq, seal=seal, legacy_rows=int(latest.get("legacy_rows", 0)))
    verdict = verify_audit_chain(session, key=key, start=start)
    problem = _check_head(session, verdict, latest) or _check_rows_before(session, seq)
    return ChainReport(chain=verdict, checkpoints=len(lines), problem=problem,
                       verified_from_seq=seq, checkpoint_at=str(latest.get("at", "")))  # fmt: skip


def _check_rows_before(session: Session, seq: int) -> str:
    """Rows 1..seq are all still there (seq is unique, so a count of them is enough)."""
    kept = session.scalar(select(func.count()).where(AuditEntry.seq <= seq)) or 0
    if kept < seq:
        return f"{seq - kept} of the {seq} rows the latest checkpoint saw are gone"
    return ""


def _check_lines(
    key: bytes, lines: list[dict[str, Any]], first_prev_sig: str | None = _GENESIS_SIG
) -> str:
    """The lines' signatures and links; ``first_prev_sig`` None: the first line's link is not
    checked (the lines are the file's last ones, not all of it)."""
    prev_sig, prev_seq = first_prev_sig, 0
    for number, line in enumerate(lines, start=1):
        body = {name: line.get(name) for name in
                ("seq", "seal", "rows", "legacy_rows", "at", "prev_sig")}  # fmt: skip
        if not hmac.compare_digest(_sign(key, body), str(line.get("sig", ""))):
            return f"checkpoint line {number} is not signed with the audit key (edited or forged)"
        if prev_sig is not None and body["prev_sig"] != prev_sig:
            return (
                f"checkpoint line {number} does not follow line {number - 1} (a line was removed)"
            )
        if not isinstance(body["seq"], int) or body["seq"] < prev_seq:
            return f"checkpoint line {number} goes backwards"
        prev_sig, prev_seq = str(line["sig"]), body["seq"]
    return ""


def _check_head(session: Session, verdict: AuditVerdict, line: dict[str, Any]) -> str:
    seq, seal = int(line["seq"]), str(line["seal"])
    if seq == 0:
        return ""
    stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
    if stored is None:
        if session.scalar(select(AuditEntry.seq).limit(1)) is None:
            return f"the table is empty but the latest checkpoint saw {seq} rows"
        return f"row {seq}, the head at the latest checkpoint, is gone (the tail was deleted)"
    if stored != seal:
        return f"row {seq} no longer has the seal the latest checkpoint signed (the chain was rewritten)"
    if verdict.intact and verdict.legacy_rows > int(line.get("legacy_rows", 0)):
        return "more legacy rows than the latest checkpoint saw (the chain was recomputed)"
    return ""


def _describe(report: ChainReport) -> str:
    if not report.chain.intact:
        return f"row {report.chain.broken_seq}: {report.chain.reason}"
    return report.problem


class CheckpointWriter:
    """Writes a checkpoint of ``store``'s chain every ``interval_s`` in a background thread, and
    one last when stopped, so a tail deleted later is caught up to that moment. A broken chain
    is logged, never signed."""

    def __init__(self, store: Store, *, interval_s: float) -> None:
        self._store = store
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write the last checkpoint and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.write_once()
        self.write_once()

    def write_once(self) -> None:
        try:
            with self._store.session() as session:
                write_checkpoint(session, self._store.settings.audit_checkpoints_path)
        except Exception:  # logged: a failed checkpoint must not take the app down
            _log.exception("audit checkpoint not written")


def search_audit(
    session: Session,
    *,
    client_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[AuditEntry], int]:
    """The rows matching every given filter, newest first (one page), and how many match.
    ``since`` and ``until`` are whole UTC days, both included."""
    if since and until and since > until:
        raise InvalidValue("since", since.isoformat(), "must not be after until")
    query = select(AuditEntry)
    if client_id is not None:
        query = query.where(AuditEntry.client_id == client_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if since:
        query = query.where(AuditEntry.at >= datetime.combine(since, time(), UTC))
    if until:
        query = query.where(
            AuditEntry.at < datetime.combine(until + timedelta(days=1), time(), UTC)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit))
    return list(page), int(total)
