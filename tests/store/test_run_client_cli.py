"""`microamp run --client`: the clinic's gate before any current, the record after, on both
databases, through the real command, the simulator and the store."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from typer.testing import CliRunner

from clinic.samples import cleared_answers
from microamp.cli.main import app
from microamp.store import (
    Store,
    create_client,
    get_session_record,
    record_consent,
    record_intake,
)

runner = CliRunner()
DEVICE = "sim://?load=gel&rate_hz=5000"


def _client(store: Store, *, consent: bool = True, **answers: Any) -> int:
    with store.transaction() as session:
        client = create_client(session, full_name="Rosa Diaz", date_of_birth=date(1990, 4, 12))
        record_intake(
            session,
            client_id=client.id,
            answers=cleared_answers(**answers),
            on=date.today(),
            today=date.today(),
        )
        if consent:
            record_consent(session, client_id=client.id, typed_signature="Rosa Diaz")
        return client.id


def _run(database_url: str, client_id: int, protocol: str = "eye-area") -> Any:
    return runner.invoke(
        app,
        [
            "run", protocol, "--device", DEVICE, "--speed", "max", "--client", str(client_id),
            "--database", database_url, "--json",
        ],
    )  # fmt: skip


def test_a_client_with_a_pacemaker_is_refused_with_no_current(
    store: Store, database_url: str
) -> None:
    client_id = _client(store, pacemaker_or_implanted_device=True)
    result = _run(database_url, client_id)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "refused"
    assert summary["delivered_charge_uc"] == 0.0
    with store.session() as session:
        record = get_session_record(session, session_id=summary["record_id"])
        assert record.status == "refused"
        assert any("implanted" in reason for reason in record.refusal_reasons)


def test_a_client_without_consent_is_refused(store: Store, database_url: str) -> None:
    client_id = _client(store, consent=False)
    result = _run(database_url, client_id)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "refused" and summary["delivered_charge_uc"] == 0.0
    assert "consent" in json.dumps(summary).lower()


def test_a_cleared_client_is_run_and_recorded_from_the_delivered_dose(
    store: Store, database_url: str
) -> None:
    client_id = _client(store)
    result = _run(database_url, client_id)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed"
    with store.session() as session:
        record = get_session_record(session, session_id=summary["record_id"])
        assert record.status == "completed"
        assert record.client_id == client_id
        recorded_uc = sum(zone["charge_uc"] for zone in record.dose_by_zone.values())
        assert recorded_uc > 0
        assert abs(recorded_uc - summary["delivered_charge_uc"]) <= 0.01 * recorded_uc


def test_an_unknown_client_is_bad_input(store: Store, database_url: str) -> None:
    result = _run(database_url, 987654)
    assert result.exit_code == 2
    assert "987654" in result.stderr
