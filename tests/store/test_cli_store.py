"""`microamp db`, `clients`, `records` and `screen --client` against both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clinic.samples import cleared_answers
from microamp.cli.main import app
from microamp.store import SessionRecorder, StoreSettings, open_store

runner = CliRunner()
ANSWERS = cleared_answers(pregnant=True)


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture
def upgraded(database_url: str) -> str:
    result = cli("db", "upgrade", "--database", database_url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["interrupted"] == []
    return database_url


def test_commands_on_an_empty_database_ask_for_an_upgrade(database_url: str) -> None:
    result = cli("clients", "list", "--database", database_url)
    assert result.exit_code == 1
    assert "microamp db upgrade" in result.stderr


def test_a_bad_database_url_exits_2() -> None:
    for url in ("sqlite://", "mysql://root@localhost/x", "sqlite:///:memory:"):
        result = cli("db", "upgrade", "--database", url)
        assert result.exit_code == 2 and "database" in result.stderr


def test_clients_add_list_show_and_screen_into_the_record(upgraded: str, tmp_path: Path) -> None:
    added = cli(
        "clients",
        "add",
        "--name",
        "Ana Lima",
        "--dob",
        "1990-04-12",
        "--skin-type",
        "II",
        "--concern",
        "jowls",
        "--database",
        upgraded,
        "--json",
    )
    assert added.exit_code == 0, added.output
    client_id = json.loads(added.stdout)["id"]
    listed = json.loads(cli("clients", "list", "--database", upgraded, "--json").stdout)
    assert [c["full_name"] for c in listed["clients"]] == ["Ana Lima"]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS), encoding="utf-8")
    screened = cli(
        "screen", str(answers), "--client", str(client_id), "--database", upgraded, "--json"
    )
    assert screened.exit_code == 0, screened.output
    signed = cli(
        "clients", "consent", str(client_id), "--signature", "Ana Lima", "--database", upgraded
    )
    assert signed.exit_code == 0, signed.output
    shown = json.loads(
        cli("clients", "show", str(client_id), "--database", upgraded, "--json").stdout
    )
    assert shown["skin_type"] == "II"
    assert shown["screening"]["outcome"] == "contraindicated"
    assert len(shown["consents"]) == 1
    assert shown["gate_today"]["allowed"] is False
    assert [r["code"] for r in shown["gate_today"]["refusals"]] == ["contraindicated"]


def test_clients_bad_input_and_unknown_ids(upgraded: str) -> None:
    result = cli("clients", "add", "--name", "Ana", "--dob", "1990-02-30", "--database", upgraded)
    assert result.exit_code == 2 and "--dob" in result.stderr
    result = cli("clients", "show", "42", "--database", upgraded)
    assert result.exit_code == 2 and "no client 42" in result.stderr


def test_records_show_prints_a_session_record(upgraded: str, tmp_path: Path) -> None:
    settings = StoreSettings(data_dir=tmp_path, database_url=None)
    with open_store(upgraded, settings=settings) as store:
        recorder = SessionRecorder.start(store, protocol_name="lift", device_url="sim://")
        recorder({"kind": "started", "t_s": 0.0})
        recorder({"kind": "ended", "t_s": 3.0, "status": "completed"})
    result = cli("records", "show", str(recorder.session_id), "--database", upgraded, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "completed"
    assert [e["kind"] for e in document["events"]] == ["started", "ended"]
    text = cli("records", "show", str(recorder.session_id), "--database", upgraded)
    assert "completed" in text.stdout
    missing = cli("records", "show", "999", "--database", upgraded)
    assert missing.exit_code == 2


def test_db_upgrade_closes_orphaned_sessions(upgraded: str, tmp_path: Path) -> None:
    settings = StoreSettings(data_dir=tmp_path, database_url=None)
    with open_store(upgraded, settings=settings) as store:
        recorder = SessionRecorder.start(store, protocol_name="lift")
        with store.transaction() as session:
            from microamp.store import get_session_record

            get_session_record(session, session_id=recorder.session_id).recorder_pid = 2**22 + 1
    result = cli("db", "upgrade", "--database", upgraded, "--json")
    assert json.loads(result.stdout)["interrupted"] == [recorder.session_id]
