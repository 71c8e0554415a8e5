"""`microamp clients edit | archive | merge | search` and the duplicate check of `add`, on both
databases, each audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import StoreSettings, open_store
from microamp.store.access import AuditEntry

runner = CliRunner()


def cli(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def db(database_url: str) -> str:
    assert cli("db", "upgrade", "--database", database_url).exit_code == 0
    return database_url


def add(db: str, name: str, *extra: str) -> Any:
    return cli("clients", "add", "--name", name, "--dob", "1990-04-12", *extra,
               "--database", db, "--json")  # fmt: skip


def audit_rows(db: str, tmp_path: Any) -> list[tuple[str, str, dict[str, Any]]]:
    settings = StoreSettings(data_dir=tmp_path / "data", database_url=None)
    with open_store(db, settings=settings) as store, store.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.action, r.resource, r.detail) for r in rows]


def test_add_refuses_a_possible_duplicate_unless_allowed(db: str) -> None:
    first = add(db, "Ana Lima", "--phone", "06 12 34 56 78")
    assert first.exit_code == 0, first.output
    again = add(db, "Bea Costa", "--phone", "0612345678")
    assert again.exit_code == 2
    assert "may be on file already (client 1 Ana Lima" in again.stderr
    assert add(db, "Bea Costa", "--phone", "0612345678", "--allow-duplicate").exit_code == 0


def test_edit_changes_only_what_is_given_and_names_a_bad_option(db: str, tmp_path: Any) -> None:
    client_id = str(json.loads(add(db, "Ana Lima", "--email", "a@example.org").stdout)["id"])
    bad = cli("clients", "edit", client_id, "--email", "nope", "--database", db)
    assert bad.exit_code == 2 and "--email" in bad.stderr and "Traceback" not in bad.output
    assert cli("clients", "edit", client_id, "--database", db).exit_code == 2
    done = cli("clients", "edit", client_id, "--allergies", "latex", "--phone", "0612",
               "--database", db, "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert (document["changed"], document["allergies"], document["email"]) == (
        ["phone", "allergies"], "latex", "a@example.org",
    )  # fmt: skip
    assert ("write", "client:1", {"change": "edited", "fields": "phone,allergies"}) in audit_rows(
        db, tmp_path
    )
    missing = cli("clients", "edit", "99", "--phone", "1", "--database", db)
    assert missing.exit_code == 2 and "no client 99" in missing.stderr


def test_archive_hides_from_list_and_search_until_undone(db: str) -> None:
    add(db, "Ana Lima")

    def listed(*extra: str) -> list[str]:
        out = cli("clients", "search", "ana", *extra, "--database", db, "--json")
        return [c["full_name"] for c in json.loads(out.stdout)["clients"]]

    assert cli("clients", "archive", "1", "--database", db).exit_code == 0
    assert listed() == []
    assert listed("--archived") == ["Ana Lima"]
    assert json.loads(cli("clients", "list", "--database", db, "--json").stdout)["clients"] == []
    assert cli("clients", "archive", "1", "--undo", "--database", db).exit_code == 0
    assert listed() == ["Ana Lima"]


def test_merge_asks_first_moves_everything_and_is_audited(db: str, tmp_path: Any) -> None:
    add(db, "Ana Lima", "--email", "ana@example.org")
    add(db, "Ana Lima", "--phone", "0612345678", "--allow-duplicate")
    declined = cli("clients", "merge", "--keep", "1", "--duplicate", "2", "--database", db,
                   input="n\n")  # fmt: skip
    assert declined.exit_code == 1
    assert (
        len(json.loads(cli("clients", "list", "--database", db, "--json").stdout)["clients"]) == 2
    )
    merged = cli("clients", "merge", "--keep", "1", "--duplicate", "2", "--database", db,
                 input="y\n")  # fmt: skip
    assert merged.exit_code == 0, merged.output
    shown = json.loads(cli("clients", "show", "1", "--database", db, "--json").stdout)
    assert (shown["phone"], shown["email"]) == ("0612345678", "ana@example.org")
    gone = json.loads(cli("clients", "show", "2", "--database", db, "--json").stdout)
    assert (gone["archived"], gone["merged_into"]) == (True, 1)
    rows = audit_rows(db, tmp_path)
    assert ("write", "client:2", {"change": "merged away", "kept_id": 1}) in rows
    again = cli("clients", "merge", "--keep", "1", "--duplicate", "2", "--yes", "--database", db)
    assert again.exit_code == 2 and "already merged" in again.stderr
