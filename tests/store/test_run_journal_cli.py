"""`microamp run --client` keeps a journal, as a station does: a store cut off mid-session (the
cable to PostgreSQL pulled) stops the output once the device lease can no longer be renewed,
what the record could not take waits on disk, the run says where and how to write it, and
`microamp records hand-over` writes it, every event exactly once, when the store is back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import StoreSettings, get_session_record, open_store
from microamp.store.access import AuditEntry
from microamp.store.journal import Journal
from microamp.store.leases import DEFAULT_TTL_S
from microamp.store.session_models import TreatmentSession
from store.test_run_record_writer_cli import _running_step
from support.durability import WAIT_LIMIT_S, cleared_client
from support.link import Link

DEVICE = "sim://?load=gel&rate_hz=5000"
pytestmark = pytest.mark.postgres


def test_a_cli_run_cut_off_its_store_journals_and_its_journal_is_handed_over_once(
    pg_url: str, tmp_path: Path
) -> None:
    url = make_url(pg_url)
    with (
        open_store(pg_url, settings=StoreSettings(data_dir=tmp_path / "near"), upgrade=True) as store,
        Link((url.host or "127.0.0.1", url.port or 5432)) as link,
    ):  # fmt: skip
        proxied = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        client_id = cleared_client(store)
        data_dir = tmp_path / "cli"
        env = os.environ | {"MICROAMP_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable, "-m", "microamp", "run", "home-express", "--device", DEVICE,
            "--speed", "2", "--client", str(client_id), "--database", proxied, "--json",
        ]  # fmt: skip
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) as child:  # fmt: skip
            try:
                record_id = _running_step(store, client_id, child)
                time.sleep(1.0)  # some events and telemetry written before the cut
                link.cut()
                cut_at = time.monotonic()
                out, err = child.communicate(timeout=DEFAULT_TTL_S + WAIT_LIMIT_S)
                ended_after_s = time.monotonic() - cut_at
            finally:
                if child.poll() is None:
                    child.kill()
        journal = Journal(data_dir / "journal" / f"session-{record_id}.jsonl")
        assert journal.pending, err
        with store.session() as db:
            assert db.get(TreatmentSession, record_id).status == "running"  # type: ignore[union-attr]
        link.restore()
        handed = CliRunner().invoke(app, ["records", "hand-over", str(record_id),
                                          "--database", proxied],
                                    env={"MICROAMP_DATA_DIR": str(data_dir)})  # fmt: skip
        again = CliRunner().invoke(app, ["records", "hand-over", str(record_id),
                                         "--database", proxied],
                                   env={"MICROAMP_DATA_DIR": str(data_dir)})  # fmt: skip
        with store.session() as db:
            record = get_session_record(db, session_id=record_id)
            events = [(e.seq, e.kind) for e in record.events]
            status, frames, dose = record.status, record.telemetry_frames, record.dose_by_zone
            audited = db.scalars(select(AuditEntry.resource).where(
                AuditEntry.resource == f"record:{record_id}/journal")).all()  # fmt: skip
    # the session stopped once its lease could no longer be renewed, not at once and not never
    assert ended_after_s <= DEFAULT_TTL_S + WAIT_LIMIT_S / 2
    assert child.returncode == 1, err
    summary = json.loads(out)
    assert summary["record_id"] == record_id and summary["status"] == "stopped"
    assert f"microamp records hand-over {record_id}" in err and str(journal.path) in err
    assert handed.exit_code == 0, handed.output
    assert "handed over" in handed.stdout and not journal.pending
    # every event the runner emitted, in order, exactly once, its end from the journal
    assert [seq for seq, _kind in events] == list(range(summary["events_count"]))
    assert events[-1][1] == "ended" and status == "stopped" and frames > 0 and dose
    assert audited == [f"record:{record_id}/journal"]
    # nothing waits any more: a second hand-over names the record and the rule, exit 2
    assert again.exit_code == 2
    assert f"record {record_id}: no journal waits" in again.stderr
