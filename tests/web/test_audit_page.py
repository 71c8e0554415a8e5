"""The owner's audit page: owner only, filters, pages, the verify box, and the CSV of the
filtered rows; reading it leaves an audit row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from microamp.store.access import AuditEntry, append_audit
from web.conftest import Clinic


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
