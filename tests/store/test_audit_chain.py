"""The keyed audit chain and its signed checkpoints, against someone holding the database login:
a deleted tail, an emptied table, an edited row, a chain recomputed with plain hashes or with
another key are each detected, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import Store, StoreSettings, open_store
from microamp.store.access import GENESIS_HASH, AuditEntry, append_audit, verify_audit_chain
from microamp.store.audit_checkpoints import (
    CheckpointWriter,
    verify_since_checkpoint,
    verify_with_checkpoints,
    write_checkpoint,
)
from microamp.store.audit_key import AUDIT_KEY_FILE, session_audit_key
from microamp.store.scratch import scratch_schema
from support.databases import PG_ENV

pytestmark = pytest.mark.usefixtures("store")
WRITERS = 6


def _append(store: Store, count: int, start: int = 0) -> None:
    with store.transaction() as db:
        for n in range(start, start + count):
            append_audit(db, actor_id=None, actor="t", action="read", resource=f"client:{n}",
                         client_id=n, detail={"n": n})  # fmt: skip


def _drop_guards(db: Session) -> None:
    """What the database login can do to its own table: remove the append-only triggers."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log"))
    else:
        db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def _report(store: Store) -> Any:
    with store.session() as db:
        return verify_with_checkpoints(db, store.settings.audit_checkpoints_path)


def _since_checkpoint(store: Store) -> Any:
    with store.session() as db:
        return verify_since_checkpoint(db, store.settings.audit_checkpoints_path)


def _checkpoint(store: Store) -> None:
    with store.session() as db:
        write_checkpoint(db, store.settings.audit_checkpoints_path)


def _rows(db: Session) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _fields(row: AuditEntry, prev: str) -> dict[str, Any]:
    return {"seq": row.seq, "at": row.at.isoformat(timespec="milliseconds"),
            "actor_id": row.actor_id, "actor": row.actor, "action": row.action,
            "resource": row.resource, "client_id": row.client_id, "detail": dict(row.detail),
            "prev_hash": prev}  # fmt: skip


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _recompute(db: Session, key: bytes | None) -> None:
    """Rewrite every row's link and seal: with plain SHA-256 (``key`` None) or another key."""
    prev = GENESIS_HASH
    for row in _rows(db):
        body = _canonical(_fields(row, prev))
        seal = (hashlib.sha256(body).hexdigest() if key is None
                else hmac.new(key, body, hashlib.sha256).hexdigest())  # fmt: skip
        db.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                   {"p": prev, "h": seal, "s": row.seq})  # fmt: skip
        prev = seal


def test_a_fresh_chain_with_checkpoints_verifies(store: Store) -> None:
    _append(store, 3)
    _checkpoint(store)
    _append(store, 2, start=3)
    _checkpoint(store)
    report = _report(store)
    assert report.intact and report.checkpoints == 2 and report.chain.rows == 5
    assert report.chain.legacy_rows == 0
    path = store.settings.audit_checkpoints_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_file = store.settings.data_dir / AUDIT_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_seal_is_keyed_not_a_plain_hash(store: Store) -> None:
    _append(store, 1)
    with store.session() as db:
        row = _rows(db)[0]
        plain = hashlib.sha256(_canonical(_fields(row, GENESIS_HASH))).hexdigest()
        keyed = hmac.new(session_audit_key(db), _canonical(_fields(row, GENESIS_HASH)),
                         hashlib.sha256).hexdigest()  # fmt: skip
        assert row.hash == keyed != plain


def test_a_deleted_tail_is_detected(store: Store) -> None:
    _append(store, 5)
    _checkpoint(store)
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text("DELETE FROM audit_log WHERE seq >= 4"))
    report = _report(store)
    assert report.chain.intact  # what is left still links up
    assert not report.intact and "row 5" in report.problem and "tail" in report.problem


def test_an_emptied_table_is_detected(store: Store) -> None:
    _append(store, 3)
    _checkpoint(store)
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text("DELETE FROM audit_log"))
    report = _report(store)
    assert not report.intact and "empty" in report.problem


def test_an_edited_row_is_detected(store: Store) -> None:
    _append(store, 4)
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text("UPDATE audit_log SET resource = 'client:99' WHERE seq = 2"))
    report = _report(store)
    assert not report.intact and report.chain.broken_seq == 2
    assert "changed" in report.chain.reason


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["plain-hashes", "wrong-key"])
def test_a_recomputed_chain_is_detected(store: Store, key: bytes | None) -> None:
    _append(store, 4)
    _checkpoint(store)
    with store.transaction() as db:
        _drop_guards(db)
        _recompute(db, key)
    report = _report(store)
    assert not report.intact
    if key is None:
        # plain hashes all the way pass as a legacy chain; the checkpoint's head gives them away
        assert report.chain.intact and "row 4" in report.problem
    else:
        assert report.chain.broken_seq == 1


def test_plain_rows_after_keyed_rows_are_refused(store: Store) -> None:
    _append(store, 3)
    with store.transaction() as db:
        _drop_guards(db)
        row = _rows(db)[2]
        plain = hashlib.sha256(_canonical(_fields(row, row.prev_hash))).hexdigest()
        db.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 3"), {"h": plain})
    verdict = _report(store).chain
    assert verdict.broken_seq == 3 and "without the key" in verdict.reason


def test_legacy_rows_verify_as_a_prefix(store: Store) -> None:
    """Rows written before the key existed (plain SHA-256) are accepted before keyed rows."""
    _append(store, 3)
    with store.transaction() as db:
        _drop_guards(db)
        _recompute(db, None)
    _append(store, 2, start=3)
    report = _report(store)
    assert report.intact and report.chain.legacy_rows == 3 and report.chain.rows == 5


def test_an_edited_checkpoint_line_is_detected(store: Store) -> None:
    _append(store, 2)
    _checkpoint(store)
    _checkpoint(store)
    path = store.settings.audit_checkpoints_path
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["rows"] = 1
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    report = _report(store)
    assert not report.intact and "line 1" in report.problem and "signed" in report.problem


def test_a_removed_checkpoint_line_is_detected(store: Store) -> None:
    _append(store, 2)
    for _ in range(3):
        _checkpoint(store)
    path = store.settings.audit_checkpoints_path
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    report = _report(store)
    assert not report.intact and "removed" in report.problem


def test_a_broken_chain_gets_no_checkpoint(store: Store) -> None:
    _append(store, 2)
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text("UPDATE audit_log SET actor = 'x' WHERE seq = 1"))
    with store.session() as db, pytest.raises(ValueError, match="broken"):
        write_checkpoint(db, store.settings.audit_checkpoints_path)
    assert not store.settings.audit_checkpoints_path.exists()


def test_the_configured_key_is_used(database_url: str, tmp_path: Path) -> None:
    settings = StoreSettings(data_dir=tmp_path / "keyed", audit_key="a long configured secret")
    with open_store(database_url, settings=settings, upgrade=True) as keyed:
        _append(keyed, 2)
        assert _report(keyed).intact
        assert not (settings.data_dir / AUDIT_KEY_FILE).exists()
    other = StoreSettings(data_dir=tmp_path / "keyed", audit_key="another secret")
    with open_store(database_url, settings=other) as wrong, wrong.session() as db:
        assert verify_audit_chain(db).broken_seq == 1


_damage = st.sampled_from(["delete", "edit", "truncate"])


def _fresh_url(database_url: str, data_dir: Path) -> contextlib.AbstractContextManager[str]:
    """A database of its own for each example: a new SQLite file or a new PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        return contextlib.nullcontext(f"sqlite:///{data_dir / 'p.db'}")
    return scratch_schema(os.environ[PG_ENV], prefix="prop")


@hyp_settings(max_examples=12, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(count=st.integers(1, 6), later=st.integers(0, 3), damage=_damage, data=st.data())
def test_any_single_deletion_edit_or_truncation_fails_verify(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, count: int, later: int,
    damage: str, data: st.DataObject,
) -> None:  # fmt: skip
    """For any appended rows (checkpointed, then ``later`` more) and any one deletion, edit or
    truncation, verify fails unless only rows after the checkpoint were cut off the end; the
    check from the checkpoint on fails too, except for a row before the checkpoint edited in
    place, which only the full walk reads."""
    settings = StoreSettings(data_dir=tmp_path_factory.mktemp("prop"), audit_key="property key")
    with _fresh_url(database_url, settings.data_dir) as url, \
            open_store(url, settings=settings, upgrade=True) as store:  # fmt: skip
        _append(store, count)
        _checkpoint(store)
        _append(store, later, start=count)
        seq = data.draw(st.integers(1, count + later), label="seq")
        with store.transaction() as db:
            _drop_guards(db)
            if damage == "delete":
                db.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
            elif damage == "edit":
                db.execute(text("UPDATE audit_log SET actor = actor || 'x' WHERE seq = :s"),
                           {"s": seq})  # fmt: skip
            else:
                db.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": seq})
        # rows written after the latest checkpoint and cut off the end leave no trace: the
        # window the checkpoint interval bounds (see the module's docstring)
        tail_after = seq > count and (
            damage == "truncate" or (damage == "delete" and seq == count + later)
        )
        assert _report(store).intact is tail_after
        edited_before = damage == "edit" and seq <= count
        assert _since_checkpoint(store).intact is (tail_after or edited_before)


def test_the_server_writer_checkpoints_and_stops_cleanly(store: Store) -> None:
    _append(store, 2)
    writer = CheckpointWriter(store, interval_s=3600)
    writer.start()
    writer.stop()  # the last checkpoint is written on the way out
    report = _report(store)
    assert report.intact and report.checkpoints == 1


def test_cli_checkpoint_and_verify(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROAMP_DATA_DIR", str(store.settings.data_dir))
    _append(store, 3)
    runner = CliRunner()
    written = runner.invoke(app, ["audit", "checkpoint", "--json", "--database", database_url])
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["seq"] == 3
    intact = runner.invoke(app, ["audit", "verify", "--database", database_url])
    assert intact.exit_code == 0 and "audit log intact: 3 rows" in intact.stdout
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    broken = runner.invoke(app, ["audit", "verify", "--json", "--database", database_url])
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["intact"] is False
    assert "row 3" in json.loads(broken.stdout)["reason"]
    refused = runner.invoke(app, ["audit", "checkpoint", "--database", database_url])
    assert refused.exit_code == 1 and "no checkpoint written" in refused.output


def test_the_check_since_the_checkpoint_walks_only_the_rows_after_it(store: Store) -> None:
    _append(store, 4)
    assert _since_checkpoint(store).verified_from_seq == 0  # no checkpoint: the whole chain
    _checkpoint(store)
    _append(store, 3, start=4)
    report = _since_checkpoint(store)
    assert report.intact and report.verified_from_seq == 4 and report.chain.rows == 7
    assert report.checkpoint_at and report.chain.head_seq == 7
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text("UPDATE audit_log SET resource = 'client:99' WHERE seq = 2"))
    # row 2 is before the checkpoint and was not read again: only the full walk sees it
    assert _since_checkpoint(store).intact
    assert _report(store).chain.broken_seq == 2


@pytest.mark.parametrize(
    ("damage", "found"),
    [
        ("UPDATE audit_log SET actor = 'x' WHERE seq = 6", "row 6"),
        ("DELETE FROM audit_log WHERE seq = 6", "row 6 is missing"),
        ("DELETE FROM audit_log WHERE seq = 2", "1 of the 4 rows"),
        ("DELETE FROM audit_log WHERE seq >= 4", "tail"),
        ("DELETE FROM audit_log", "empty"),
        # the first hex digit changed, whatever it was (a seal that began with f stayed intact)
        (
            "UPDATE audit_log SET hash = CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END"
            " || substr(hash, 2) WHERE seq = 4",
            "seal",
        ),
    ],
    ids=["edit-after", "delete-after", "delete-before", "tail", "emptied", "head-resealed"],
)
def test_the_check_since_the_checkpoint_finds_damage_on_either_side(
    store: Store, damage: str, found: str
) -> None:
    _append(store, 4)
    _checkpoint(store)
    _append(store, 3, start=4)
    with store.transaction() as db:
        _drop_guards(db)
        db.execute(text(damage))
    report = _since_checkpoint(store)
    assert not report.intact
    assert found in f"row {report.chain.broken_seq}: {report.chain.reason} {report.problem}"
    assert not _report(store).intact


def test_a_forged_latest_checkpoint_line_means_the_whole_chain_is_walked(store: Store) -> None:
    _append(store, 3)
    _checkpoint(store)
    path = store.settings.audit_checkpoints_path
    line = json.loads(path.read_text().splitlines()[-1])
    path.write_text(json.dumps({**line, "seq": 1}) + "\n")
    report = _since_checkpoint(store)
    assert report.verified_from_seq == 0 and not report.intact
    assert "not signed" in report.problem


def test_workers_checkpointing_at_once_into_one_file_keep_it_one_chain(store: Store) -> None:
    """Workers sharing a data directory all write a checkpoint at shutdown, at once."""
    _append(store, 3)
    at_once = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        at_once.wait()
        for more in range(3):
            _append(store, 1, start=100 * n + more)
            _checkpoint(store)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    report = _report(store)
    assert report.intact, report.problem
    assert report.checkpoints == 3 * WRITERS
