"""`microamp export person` and `microamp export csv`: the files written, the reads audited, and
a bad argument exit 2 naming it, with no file left behind."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import Store
from microamp.store.access import AuditEntry
from store.test_fhir import DOSES, seed_client

runner = CliRunner()


def cli(database_url: str, *args: str) -> Any:
    return runner.invoke(app, ["export", *args, "--database", database_url])


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder of its own for the files written (the SQLite database is in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _last_audit(store: Store) -> AuditEntry:
    with store.transaction() as db:
        row = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        db.expunge(row)
        return row


def test_person_writes_the_archive_and_audits_the_read(
    store: Store, database_url: str, out_dir: Path
) -> None:
    ids = seed_client(store)
    out = out_dir / "ines.zip"
    done = cli(database_url, "person", "--client", str(ids["client"]), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "photos written" in done.stderr
    with zipfile.ZipFile(out) as archive:
        record = json.loads(archive.read("record.json"))
        assert [s["dose_by_zone"] for s in record["sessions"]] == DOSES
        assert "index.html" in archive.namelist()
    row = _last_audit(store)
    assert (row.action, row.resource, row.client_id) == ("read", f"client:{ids['client']}",
                                                         ids["client"])  # fmt: skip
    assert row.actor.startswith("os:") and row.detail["view"] == "full export"
    assert list(out_dir.iterdir()) == [out]  # no partial file left


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--client", "0", "--out", "{dir}/a.zip"], "--client"),
        (["--client", "999999", "--out", "{dir}/a.zip"], "--client"),
        (["--client", "1", "--out", "{dir}"], "--out"),
        (["--client", "1", "--out", "{dir}/missing/a.zip"], "--out"),
        (["--client", "1", "--out", "{dir}/a.txt"], "--out"),
    ],
)
def test_person_refuses_a_bad_argument_naming_it(
    store: Store, database_url: str, out_dir: Path, args: list[str], named: str
) -> None:
    done = cli(database_url, "person", *(a.format(dir=out_dir) for a in args))
    assert done.exit_code == 2, done.output
    assert named in done.stderr
    assert list(out_dir.iterdir()) == []


def test_csv_writes_the_table_and_audits_the_read(
    store: Store, database_url: str, out_dir: Path
) -> None:
    seed_client(store)
    out = out_dir / "dose.csv"
    done = cli(database_url, "csv", "--table", "dose", "--out", str(out), "--from", "2000-01-01")
    assert done.exit_code == 0, done.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(float(r["charge_uc"]) for r in rows) == sorted(
        d["charge_uc"] for dose in DOSES for d in dose.values()
    )
    row = _last_audit(store)
    assert (row.resource, row.detail["rows"], row.detail["first"]) == ("export:dose", 5,
                                                                       "2000-01-01")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--table", "users"], "--table"),
        (["--table", "dose", "--from", "03/01/2026"], "--from"),
        (["--table", "dose", "--from", "2026-03-02", "--to", "2026-03-01"], "--to"),
    ],
)
def test_csv_refuses_a_bad_argument_naming_it(
    store: Store, database_url: str, out_dir: Path, args: list[str], named: str
) -> None:
    done = cli(database_url, "csv", *args, "--out", str(out_dir / "x.csv"))
    assert done.exit_code == 2, done.output
    assert named in done.stderr
    assert list(out_dir.iterdir()) == []
