"""What every kill test shares: a cleared client to run for, a hard kill, and what an interrupted
record must still hold."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date
from typing import Any

from clinic.samples import cleared_answers
from microamp.store import Store, create_client, record_consent, record_intake

# generous bounds on waiting for a child process: a test never asserts how fast it was
WAIT_LIMIT_S = 60.0


def kill_hard(process: subprocess.Popen[str]) -> None:
    """SIGKILL ``process`` (no clean-up of any kind runs) and check it died of that."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT_LIMIT_S)
    stderr = ""
    if process.stderr is not None:
        stderr = process.stderr.read()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL, stderr


def assert_interrupted_with_its_events(record: Any, *, min_steps: int) -> None:
    """Interrupted, every event kept in order without gaps, closed, with the dose so far."""
    kinds = [e.kind for e in record.events]
    assert record.status == "interrupted"
    assert kinds[0] == "started" and kinds[-1] == "interrupted"
    assert kinds.count("step_started") >= min_steps
    assert [e.seq for e in record.events] == list(range(len(kinds)))
    assert record.event_count == len(kinds)
    assert record.ended_at is not None
    assert sum(zone.get("charge_uc", 0.0) for zone in record.dose_by_zone.values()) > 0


def cleared_client(store: Store) -> int:
    """A client screened clear today with a consent on file: the gate lets current flow."""
    with store.transaction() as session:
        client = create_client(session, full_name="Ana Lima", date_of_birth=date(1990, 4, 12))
        record_intake(
            session,
            client_id=client.id,
            answers=cleared_answers(),
            on=date.today(),
            today=date.today(),
        )
        record_consent(session, client_id=client.id, typed_signature="Ana Lima")
        return client.id
