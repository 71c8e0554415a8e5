"""Erasing a client, on SQLite and PostgreSQL: afterwards no text in any column of any table
holds her name, email, phone, date of birth or notes, no photo of hers is left in the store or
on disk, her dose figures are still summed without her, and the audit chain verifies with the
erasure in it. A retention hold refuses the erasure with the rule named until the owner changes
the setting."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import Store, StoreSettings
from microamp.store.access import AuditEntry, verify_audit_chain
from microamp.store.book_setup import save_settings
from microamp.store.home import create_home_account, home_operator
from microamp.store.models import Client, ProgressEntry
from microamp.store.photo_blobs import PhotoBlob
from microamp.store.session_models import TreatmentSession
from store.test_fhir import BORN, DOSES, seed_client

runner = CliRunner()
NOTES = "Prefers the quiet room; rosacea flare-ups after sun"


@pytest.fixture(autouse=True)
def _cli_shares_the_audit_key(monkeypatch: pytest.MonkeyPatch, settings: StoreSettings) -> None:
    """The CLI seals its audit rows with the key in the test store's data directory."""
    monkeypatch.setenv("MICROAMP_DATA_DIR", str(settings.data_dir))


def cli(database_url: str, *args: str) -> Any:
    return runner.invoke(app, ["clients", "erase", *args, "--database", database_url])


def _seed(store: Store, tmp_path: Path) -> dict[str, Any]:
    """The FHIR test's client with notes, allergies and a photo an older microamp kept on
    disk; a home account beside her (another person) whose operator acts in the audit log."""
    ids = seed_client(store)
    legacy = tmp_path / "photos" / "old.jpg"
    legacy.parent.mkdir()
    legacy.write_bytes(b"an older photo")
    with store.transaction() as db:
        client = db.get(Client, ids["client"])
        assert client is not None
        client.notes, client.allergies, client.medications = NOTES, "latex", "isotretinoin"
        entry = db.get(ProgressEntry, ids["photo"])
        assert entry is not None
        entry.photo_path = str(legacy)
        ids["sha256"] = entry.photo_sha256
        other = create_home_account(db, display_name="Maria Quintela", date_of_birth=date(1990, 5, 6),
                                    password_hash="x", plan_start=date.today(), today=date.today())  # fmt: skip
        home_operator(db, other)
        ids["other"] = other.client_id
    return ids | {"legacy": legacy}


def _every_text(db: Session) -> list[str]:
    """Every value of every column of every table in the database, as text."""
    found: list[str] = []
    for table in inspect(db.get_bind()).get_table_names():
        for row in db.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                if isinstance(value, bytes):
                    found.append(value.decode("utf-8", "ignore"))
                elif isinstance(value, dict | list):
                    found.append(json.dumps(value, ensure_ascii=False))
                elif value is not None:
                    found.append(str(value))
    return found


def _personal(db: Session, client_id: int) -> list[str]:
    client = db.get(Client, client_id)
    assert client is not None
    return [client.full_name, client.full_name.split()[-1], client.email or "",
            client.phone or "", client.date_of_birth.isoformat(), client.notes]  # fmt: skip


def _charge_kept(db: Session) -> float:
    rows = db.scalars(select(TreatmentSession).where(TreatmentSession.client_id.is_(None)))
    return sum(zone["charge_uc"] for row in rows for zone in row.dose_by_zone.values())


def test_an_erased_client_leaves_no_personal_field_no_photo_and_a_sound_audit_chain(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    ids = _seed(store, tmp_path)
    with store.transaction() as db:
        needles = _personal(db, ids["client"])
        others = _personal(db, ids["other"])[:1]
        assert all(any(n in value for value in _every_text(db)) for n in needles)
    done = cli(database_url, str(ids["client"]), "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"erased": True, "client_id": ids["client"],
                                       "intake_forms": 2, "records": 2, "photos": 1,
                                       "consents": 2, "visits": 1, "files": 1}  # fmt: skip
    with store.transaction() as db:
        everything = _every_text(db)
        left = [n for n in needles if any(n in value for value in everything)]
        assert left == [], f"still in the database: {left}"
        assert all(any(n in value for value in everything) for n in others)  # only she went
        assert db.get(Client, ids["client"]) is None
        assert db.get(PhotoBlob, ids["sha256"]) is None
        assert _charge_kept(db) == sum(z["charge_uc"] for dose in DOSES for z in dose.values())
        verdict = verify_audit_chain(db)
        assert verdict.intact, verdict.reason
        last = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (last.resource, last.client_id, last.detail["change"]) == (
            f"client:{ids['client']}", ids["client"], "erased")  # fmt: skip
        assert last.actor.startswith("os:")
    assert not ids["legacy"].exists()


def test_a_retention_hold_refuses_with_the_rule_until_the_setting_changes(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    ids = _seed(store, tmp_path)
    with store.transaction() as db:
        save_settings(db, retention_years=7)
    held = cli(database_url, str(ids["client"]), "--yes")
    assert held.exit_code == 1
    today = date.today()
    said = " ".join(held.output.split())
    assert "kept 7 years after the last treatment" in said
    assert f"({today.isoformat()}): held until {today.year + 7}" in said
    assert "changing the retention setting" in said
    with store.transaction() as db:
        assert db.get(Client, ids["client"]) is not None
        save_settings(db, retention_years=0)
    assert cli(database_url, str(ids["client"]), "--yes").exit_code == 0
    with store.transaction() as db:
        assert db.get(Client, ids["client"]) is None


def test_without_yes_it_names_what_would_go_and_erases_nothing(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    ids = _seed(store, tmp_path)
    shown = cli(database_url, str(ids["client"]))
    assert shown.exit_code == 1
    said = " ".join(shown.output.split())
    assert "2 intake forms, 2 records, 1 photos, 2 consents, 1 visits" in said
    assert "Nothing erased" in shown.output
    with store.transaction() as db:
        assert db.get(Client, ids["client"]) is not None
        assert db.get(Client, ids["client"]).date_of_birth == BORN  # type: ignore[union-attr]
    assert ids["legacy"].exists()


def test_an_unknown_client_is_exit_2(store: Store, database_url: str) -> None:
    done = cli(database_url, "999999", "--yes")
    assert done.exit_code == 2
    assert "999999" in done.output


def test_a_home_clients_erasure_leaves_her_name_nowhere_not_even_in_the_audit_actors(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    ids = _seed(store, tmp_path)
    with store.transaction() as db:
        needles = _personal(db, ids["other"])[:2] + ["1990-05-06"]
    assert cli(database_url, str(ids["other"]), "--yes").exit_code == 0
    with store.transaction() as db:
        everything = _every_text(db)
        assert [n for n in needles if any(n in value for value in everything)] == []
        assert verify_audit_chain(db).intact
