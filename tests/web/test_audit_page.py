"""The owner's audit page: owner only, filters, pages, the verify box, and the CSV of the
filtered rows; reading it leaves an audit row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from microamp.cli.main import app as cli
from microamp.store.access import AuditEntry, append_audit
from microamp.store.audit_checkpoints import write_checkpoint
from web.conftest import Clinic, clinic_on


@contextmanager
def _browser(clinic: Clinic, role: str) -> Iterator[httpx.Client]:
    browser = clinic.browser_client(role)
    try:
        yield browser
    finally:
        browser.close()


def _seed(clinic: Clinic, actor: str, count: int) -> int:
    client_id = clinic.clients["cleared"]
    with clinic.store.transaction() as db:
        for n in range(count):
            append_audit(db, actor_id=None, actor=actor, action="write",
                         resource=f"client:{client_id}/p{n}", client_id=client_id)  # fmt: skip
    return client_id


@pytest.mark.parametrize("role", ["practitioner", "reception"])
def test_non_owners_cannot_open_it_and_do_not_see_it_in_the_nav(clinic: Clinic, role: str) -> None:
    with _browser(clinic, role) as browser:
        assert browser.get("/audit").status_code == 403
        assert browser.get("/audit.csv").status_code == 403
        assert 'href="/audit"' not in browser.get("/").text


def test_the_owner_filters_pages_and_sees_the_chain_intact(clinic: Clinic) -> None:
    client_id = _seed(clinic, "page-test", 55)
    with _browser(clinic, "owner") as browser:
        assert 'href="/audit"' in browser.get("/").text
        first = browser.get("/audit", params={"client": client_id, "actor": "page-test"})
        older = browser.get("/audit", params={"client": client_id, "actor": "page-test",
                                              "offset": 50})  # fmt: skip
    assert first.status_code == 200
    assert first.text.count('data-testid="audit-row"') == 50
    assert older.text.count('data-testid="audit-row"') == 5
    assert "(55)" in first.text and "intact" in first.text
    assert 'data-testid="audit-older"' in first.text


def test_a_bad_date_is_422_naming_the_field(clinic: Clinic) -> None:
    with _browser(clinic, "owner") as browser:
        response = browser.get("/audit", params={"since": "soon"})
    assert response.status_code == 422 and "since" in response.text


def test_the_csv_holds_the_filtered_rows_and_reading_is_audited(clinic: Clinic) -> None:
    client_id = _seed(clinic, "=csv-test", 3)
    with _browser(clinic, "owner") as browser:
        response = browser.get("/audit.csv", params={"actor": "=csv-test", "action": "write"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["resource"] for r in rows] == [f"client:{client_id}/p{n}" for n in (2, 1, 0)]
    assert {r["actor"] for r in rows} == {"'=csv-test"}  # never a formula in a spreadsheet
    with clinic.store.session() as db:
        last = db.query(AuditEntry).order_by(AuditEntry.seq.desc()).first()
    assert last is not None and (last.resource, last.detail.get("format")) == ("audit", "csv")


# -- what a view verifies: from the latest checkpoint on ----------------------------------------


@pytest.fixture
def fresh(database_url: str, tmp_path: Path) -> Iterator[Clinic]:
    """A clinic of its own: these tests damage its audit log."""
    with clinic_on(database_url, tmp_path) as clinic:
        yield clinic


def _checkpointed(clinic: Clinic) -> int:
    """Rows, a checkpoint, then three rows more; the checkpoint's head."""
    _seed(clinic, "before", 3)
    with clinic.store.session() as db:
        head = write_checkpoint(db, clinic.store.settings.audit_checkpoints_path).seq
    _seed(clinic, "after", 3)
    return head


def _damage(clinic: Clinic, statement: str, seq: int) -> None:
    with clinic.store.transaction() as db:
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        else:
            db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        db.execute(text(statement), {"s": seq})


def _verify_cli(clinic: Clinic, database_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("MICROAMP_DATA_DIR", str(clinic.store.settings.data_dir))
    return CliRunner().invoke(cli, ["audit", "verify", "--database", database_url]).exit_code


def _chain_box(browser: httpx.Client, **params: str) -> str:
    html = browser.get("/audit", params=params).text
    return html[html.index('data-testid="audit-verify"') : html.index('id="filter-title"')]


def test_a_view_walks_the_rows_after_the_checkpoint_and_says_so(fresh: Clinic) -> None:
    head = _checkpointed(fresh)
    with _browser(fresh, "owner") as browser:
        box = _chain_box(browser)
        full = _chain_box(browser, check="full")
    assert "intact" in box and f"its row {head} keeps the seal" in box
    assert f"({head + 1}–" in box and f"Rows 1–{head} were verified in full" in box
    assert 'data-testid="audit-check-full"' in box
    assert "intact" in full and "every row and every signed checkpoint" in full


@pytest.mark.parametrize(
    ("statement", "offset", "seen_by_a_view"),
    [
        ("UPDATE audit_log SET actor = 'someone else' WHERE seq = :s", 2, True),
        ("DELETE FROM audit_log WHERE seq = :s", 1, True),
        ("DELETE FROM audit_log WHERE seq = :s", -1, True),
        ("UPDATE audit_log SET actor = 'someone else' WHERE seq = :s", -1, False),
    ],
    ids=["edited-after", "deleted-after", "deleted-before", "edited-before"],
)
def test_tampering_either_side_of_the_checkpoint_is_found_and_shown(
    fresh: Clinic, database_url: str, monkeypatch: pytest.MonkeyPatch,
    statement: str, offset: int, seen_by_a_view: bool,
) -> None:  # fmt: skip
    head = _checkpointed(fresh)
    _damage(fresh, statement, head + offset)
    assert _verify_cli(fresh, database_url, monkeypatch) == 1
    with _browser(fresh, "owner") as browser:
        box = _chain_box(browser)
        full = _chain_box(browser, check="full")
    assert "broken" in full
    # a row before the checkpoint edited in place keeps its old seal: only the full walk,
    # which the page links to, reads it again
    assert ("broken" in box) is seen_by_a_view
    assert ("intact" in box) is not seen_by_a_view
