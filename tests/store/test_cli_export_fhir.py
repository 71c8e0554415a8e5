"""`microamp export fhir`: the client's Bundle as JSON on stdout, parsed by `fhir.resources`,
the read audited with the OS user; a bad client id is exit 2 naming ``--client``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import Store
from microamp.store.access import AuditEntry
from store.test_fhir import DOSES, seed_client

runner = CliRunner()


def cli(database_url: str, *args: str) -> Any:
    return runner.invoke(app, ["export", "fhir", *args, "--database", database_url])


def test_the_bundle_is_printed_as_json_and_the_read_audited(
    store: Store, database_url: str
) -> None:
    ids = seed_client(store)
    done = cli(database_url, "--client", str(ids["client"]))
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    bundle = Bundle.model_validate(document)
    kinds = [e.resource.get_resource_type() for e in bundle.entry or []]
    assert kinds.count("Procedure") == len(DOSES)
    assert "AuditEvent" not in kinds
    with store.transaction() as db:
        row = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (row.action, row.resource, row.client_id) == ("read", f"client:{ids['client']}",
                                                             ids["client"])  # fmt: skip
        assert row.actor.startswith("os:") and row.detail["view"] == "fhir export"
    audited = cli(database_url, "--client", str(ids["client"]), "--include-audit")
    events = [e for e in json.loads(audited.stdout)["entry"]
              if e["resource"]["resourceType"] == "AuditEvent"]  # fmt: skip
    assert any(e["resource"]["id"] == str(row.id) for e in events)


@pytest.mark.parametrize("client_id", ["0", "999999", "-3", "99999999999"])
def test_a_bad_client_id_is_exit_2_naming_the_option(
    store: Store, database_url: str, client_id: str
) -> None:
    done = cli(database_url, "--client", client_id)
    assert done.exit_code == 2
    assert "--client" in done.output
    assert done.stdout.strip() == "" or not done.stdout.lstrip().startswith("{")
