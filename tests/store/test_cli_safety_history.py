"""The CLI keeps dates in the past, keeps a contraindication on the client until a recorded
lift, and leaves an audit row naming the OS user for every read and write of health data."""

from __future__ import annotations

import getpass
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from clinic.samples import cleared_answers
from microamp.cli.main import app
from microamp.store import Store, create_client, create_user
from microamp.store.access import AuditEntry

runner = CliRunner()
DEVICE = "sim://?load=gel&rate_hz=5000"


def cli(database_url: str, *args: str) -> Any:
    return runner.invoke(app, [*args, "--database", database_url])


def answers_file(tmp_path: Path, name: str = "answers.json", **changes: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(cleared_answers(**changes)), encoding="utf-8")
    return str(path)


def _client(store: Store) -> int:
    with store.transaction() as session:
        client = create_client(session, full_name="Ana Lima", date_of_birth=date(1990, 4, 12))
        return client.id


def _staff(store: Store) -> None:
    with store.transaction() as session:
        for role in ("practitioner", "reception"):
            create_user(session, email=f"{role}@clinic.example", display_name=role, role=role)


def _gate(database_url: str, client_id: int) -> dict[str, Any]:
    shown = cli(database_url, "clients", "show", str(client_id), "--json")
    assert shown.exit_code == 0, shown.output
    gate: dict[str, Any] = json.loads(shown.stdout)["gate_today"]
    return gate


def _screen(database_url: str, path: str, client_id: int, *extra: str) -> Any:
    return cli(database_url, "screen", path, "--client", str(client_id), "--json", *extra)


def test_a_screening_dated_tomorrow_is_refused_naming_on_and_keeps_nothing(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    client_id = _client(store)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    result = _screen(database_url, answers_file(tmp_path), client_id, "--on", tomorrow)
    assert result.exit_code == 2
    assert "on" in result.stderr and "future" in result.stderr
    assert "Traceback" not in result.output
    history = cli(database_url, "clients", "history", str(client_id), "--json")
    assert json.loads(history.stdout)["screenings"] == []


def test_a_future_dated_screening_cannot_outrank_a_later_real_one(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    client_id = _client(store)
    cli(database_url, "clients", "consent", str(client_id), "--signature", "Ana Lima")
    _screen(database_url, answers_file(tmp_path), client_id, "--on", "2030-01-01")
    pregnant = answers_file(tmp_path, "pregnant.json", pregnant=True)
    assert _screen(database_url, pregnant, client_id).exit_code == 0
    gate = _gate(database_url, client_id)
    assert not gate["allowed"]
    assert "pregnancy" in {r["rule_id"] for r in gate["refusals"]}


def test_a_clean_rescreen_keeps_a_pacemaker_flag_until_a_practitioner_lifts_it(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    client_id = _client(store)
    _staff(store)
    cli(database_url, "clients", "consent", str(client_id), "--signature", "Ana Lima")
    pacemaker = answers_file(tmp_path, "pacemaker.json", pacemaker_or_implanted_device=True)
    assert _screen(database_url, pacemaker, client_id).exit_code == 0
    clean = _screen(database_url, answers_file(tmp_path), client_id)
    assert clean.exit_code == 0
    rescreen = json.loads(clean.stdout)
    assert rescreen["outcome"] == "cleared"
    assert rescreen["changes"] == [
        {"question": "pacemaker_or_implanted_device", "was": True, "now": False}
    ]
    assert rescreen["flags_up"] == ["implanted_device"]
    gate = _gate(database_url, client_id)
    assert not gate["allowed"]
    assert [r["rule_id"] for r in gate["refusals"]] == ["implanted_device"]

    lift = ("clients", "lift", str(client_id), "--rule", "implanted_device")
    refused = cli(database_url, *lift, "--reason", "removed", "--by", "reception@clinic.example")
    assert refused.exit_code == 2 and "--by" in refused.stderr
    assert not _gate(database_url, client_id)["allowed"]
    why = "Device explanted in 2026; cardiologist letter on file"
    lifted = cli(database_url, *lift, "--reason", why, "--by", "practitioner@clinic.example")
    assert lifted.exit_code == 0, lifted.output
    assert _gate(database_url, client_id)["allowed"]

    history = json.loads(cli(database_url, "clients", "history", str(client_id), "--json").stdout)
    assert [s["outcome"] for s in history["screenings"]] == ["cleared", "contraindicated"]
    (flag,) = history["flags"]
    assert flag["lifted"] and flag["lift_reason"] == why
    assert flag["lifted_by"].startswith("practitioner@clinic.example")


def test_lifting_a_rule_that_is_not_flagged_exits_2_naming_the_rule(
    store: Store, database_url: str
) -> None:
    client_id = _client(store)
    _staff(store)
    result = cli(
        database_url, "clients", "lift", str(client_id), "--rule", "pregnancy",
        "--reason", "not pregnant", "--by", "practitioner@clinic.example",
    )  # fmt: skip
    assert result.exit_code == 2 and "--rule" in result.stderr


def test_clients_answers_prints_the_latest_answers_to_rescreen_from(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    client_id = _client(store)
    _screen(database_url, answers_file(tmp_path, diabetes=True), client_id)
    result = cli(database_url, "clients", "answers", str(client_id))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == cleared_answers(diabetes=True)


def test_cli_reads_and_writes_of_health_data_leave_audit_rows_naming_the_os_user(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    client_id = _client(store)
    _staff(store)
    steps = [
        ("screen", answers_file(tmp_path, heart_condition=True), "--client", str(client_id)),
        ("clients", "consent", str(client_id), "--signature", "Ana Lima"),
        ("clients", "clearance", str(client_id), "--physician", "Dr Sousa",
         "--issued", date.today().isoformat()),
        ("clients", "show", str(client_id)),
        ("clients", "history", str(client_id)),
        ("clients", "answers", str(client_id)),
        # paced: at "max" a loaded machine can leave the record past the writer's 2 s bound
        ("run", "eye-area", "--device", DEVICE, "--speed", "60", "--client", str(client_id),
         "--json"),
    ]  # fmt: skip
    for step in steps:
        result = cli(database_url, *step)
        assert result.exit_code == 0, (step, result.output)
    record_id = json.loads(result.stdout)["record_id"]
    assert cli(database_url, "records", "show", str(record_id)).exit_code == 0
    assert cli(database_url, "records", "list", "--client", str(client_id)).exit_code == 0
    verified = cli(database_url, "audit", "verify", "--json")
    assert verified.exit_code == 0
    assert json.loads(verified.stdout) == {
        "intact": True, "rows": len(steps) + 2, "broken_seq": None, "reason": "",
        "legacy_rows": 0, "checkpoints": 0,
    }  # fmt: skip
    with store.session() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert {row.actor for row in rows} == {f"os:{getpass.getuser()}"}
    assert [(row.action, row.resource) for row in rows] == [
        ("write", f"client:{client_id}/intake"),
        ("write", f"client:{client_id}/consent"),
        ("write", f"client:{client_id}/clearance"),
        ("read", f"client:{client_id}"),
        ("read", f"client:{client_id}/history"),
        ("read", f"client:{client_id}/intake"),
        ("read", f"client:{client_id}/session"),
        ("read", f"record:{record_id}"),
        ("read", f"client:{client_id}/records"),
    ]
    assert all(row.client_id == client_id for row in rows)
