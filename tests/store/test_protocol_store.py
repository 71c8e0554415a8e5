"""Stored protocols: validated before they are written, named like library protocols, never
by a path; `microamp protocols upload` stores one (audited) and `microamp run` finds it."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clinic.samples import cleared_answers
from microamp.cli.main import app
from microamp.errors import InvalidValue, InvalidValues
from microamp.protocols import LIBRARY_DIR
from microamp.store import Store, create_client, record_consent, record_intake
from microamp.store.access import AuditEntry
from microamp.store.protocol_store import (
    ProtocolConflict,
    load_named_protocol,
    protocol_names,
    store_protocol,
)
from microamp.store.shared_models import StoredProtocol

runner = CliRunner()
LIBRARY_TEXT = (LIBRARY_DIR / "home-express.toml").read_text(encoding="utf-8")


def protocol_text(name: str, version: str = "1.0", muscle: str | None = None) -> str:
    text = LIBRARY_TEXT.replace('name = "home-express"', f'name = "{name}"')
    text = text.replace('version = "1.0"', f'version = "{version}"')
    if muscle is not None:
        text = re.sub(r'muscle = "[^"]+"', f'muscle = "{muscle}"', text, count=1)
    return text


def test_a_stored_protocol_is_found_by_name_newest_version_first(store: Store) -> None:
    with store.transaction() as db:
        store_protocol(db, toml_text=protocol_text("my-lift", "1.0"), uploaded_by_id=None,
                       uploaded_by="owner")  # fmt: skip
        store_protocol(db, toml_text=protocol_text("my-lift", "2.0"), uploaded_by_id=None,
                       uploaded_by="owner")  # fmt: skip
    with store.session() as db:
        assert load_named_protocol(db, "my-lift").version == "2.0"
        assert load_named_protocol(db, "home-express").name == "home-express"
        assert "my-lift" in protocol_names(db) and "home-express" in protocol_names(db)


@pytest.mark.parametrize(
    "name", ["/etc/hostname", str(LIBRARY_DIR / "home-express.toml"), "a/b", "x.toml", "-x", ""]
)
def test_a_path_is_never_a_protocol_name(store: Store, name: str) -> None:
    with store.session() as db, pytest.raises(InvalidValue) as refused:
        load_named_protocol(db, name)
    assert refused.value.field == "protocol"


def test_an_unknown_name_is_refused_naming_the_field(store: Store) -> None:
    with store.session() as db, pytest.raises(InvalidValue, match="library or the store"):
        load_named_protocol(db, "nothing-here")


def test_an_invalid_protocol_is_refused_whole_and_nothing_is_written(store: Store) -> None:
    with store.transaction() as db, pytest.raises(InvalidValues) as refused:
        store_protocol(db, toml_text=protocol_text("bad", muscle="nosuchmuscle"),
                       uploaded_by_id=None, uploaded_by="owner")  # fmt: skip
    assert "steps[0].muscle" in [e.field for e in refused.value.errors]
    with store.session() as db:
        assert db.scalars(select(StoredProtocol)).all() == []


def test_a_library_name_or_a_stored_version_is_a_conflict(store: Store) -> None:
    with store.transaction() as db, pytest.raises(ProtocolConflict, match="library"):
        store_protocol(db, toml_text=LIBRARY_TEXT, uploaded_by_id=None, uploaded_by="owner")
    with store.transaction() as db:
        store_protocol(db, toml_text=protocol_text("mine"), uploaded_by_id=None, uploaded_by="o")
    with store.transaction() as db, pytest.raises(ProtocolConflict, match="stored already"):
        store_protocol(db, toml_text=protocol_text("mine"), uploaded_by_id=None, uploaded_by="o")


def test_the_cli_stores_an_uploaded_file_audited_and_run_finds_it_by_name(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "clinic-lift.toml"
    good.write_text(protocol_text("clinic-lift"), encoding="utf-8")
    stored = runner.invoke(
        app, ["protocols", "upload", str(good), "--database", database_url, "--json"]
    )
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.stdout)["name"] == "clinic-lift"
    with store.session() as db:
        audit = db.scalars(
            select(AuditEntry).where(AuditEntry.resource == "protocol:clinic-lift")
        ).one()
        assert audit.actor.startswith("cli")
    with store.transaction() as db:
        client = create_client(db, full_name="Rosa Diaz", date_of_birth=date(1990, 4, 12))
        record_intake(
            db, client_id=client.id, answers=cleared_answers(), on=date.today(), today=date.today()
        )
        record_consent(db, client_id=client.id, typed_signature="Rosa Diaz")
        client_id = client.id
    ran = runner.invoke(
        app,
        ["run", "clinic-lift", "--device", "sim://?load=gel&rate_hz=5000", "--speed", "max",
         "--client", str(client_id), "--database", database_url, "--json"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["protocol"] == "clinic-lift"


def test_the_cli_lists_every_problem_of_a_bad_file_and_refuses_a_library_name(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(protocol_text("bad-one", muscle="nosuchmuscle"), encoding="utf-8")
    refused = runner.invoke(app, ["protocols", "upload", str(bad), "--database", database_url])
    assert refused.exit_code == 2
    assert "steps[0].muscle" in refused.stderr
    clash = tmp_path / "home-express.toml"
    clash.write_text(LIBRARY_TEXT, encoding="utf-8")
    conflict = runner.invoke(app, ["protocols", "upload", str(clash), "--database", database_url])
    assert conflict.exit_code == 1
    assert "library protocol" in conflict.stderr
    with store.session() as db:
        assert db.scalars(select(StoredProtocol)).all() == []


def test_the_cli_lists_and_shows_stored_protocols_beside_the_library(
    store: Store, database_url: str
) -> None:
    with store.transaction() as db:
        store_protocol(db, toml_text=protocol_text("clinic-brow", "3.0"), uploaded_by_id=None,
                       uploaded_by="owner")  # fmt: skip
    listed = runner.invoke(app, ["protocols", "list", "--database", database_url, "--json"])
    assert listed.exit_code == 0, listed.output
    names = [p["name"] for p in json.loads(listed.stdout)["protocols"]]
    assert "clinic-brow" in names and "home-express" in names
    shown = runner.invoke(
        app, ["protocols", "show", "clinic-brow", "--database", database_url, "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["version"] == "3.0"
    library_only = runner.invoke(app, ["protocols", "list", "--json"])
    assert "clinic-brow" not in library_only.stdout
