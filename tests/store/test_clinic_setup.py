"""The one-time setup token on SQLite and PostgreSQL: it works once, within its hour, for one
claimer even when two claim at once, and every issue and use is in the audit chain."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from microamp.errors import InvalidValue, StoreError
from microamp.store import Store
from microamp.store.access import AuditEntry, verify_audit_chain
from microamp.store.base import utc_now
from microamp.store.clinic_setup import (
    SETUP_LIFETIME_S,
    SetupLinkDead,
    claim_clinic,
    get_clinic_settings,
    issue_setup_token,
    setup_token_state,
)
from microamp.store.models import User

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=utc_now().tzinfo)


def claim(
    store: Store, token: str, *, now: datetime = NOW, email: str = "ana@lima.example"
) -> User:
    with store.transaction() as db:
        return claim_clinic(
            db, token, now=now, email=email, display_name="Ana Lima", password_hash="argon2-hash",
            clinic_name="Lima Skin Studio", time_zone="Europe/Lisbon",
        )  # fmt: skip


def issue(store: Store, now: datetime = NOW) -> str:
    with store.transaction() as db:
        return issue_setup_token(db, now=now).token


def test_a_token_works_until_its_hour_is_up(store: Store) -> None:
    token = issue(store)
    hour = timedelta(seconds=SETUP_LIFETIME_S)
    with store.session() as db:
        assert setup_token_state(db, token, now=NOW + hour - timedelta(seconds=1)) == "valid"
        assert setup_token_state(db, token, now=NOW + hour) == "expired"
        assert setup_token_state(db, token + "x", now=NOW) == "unknown"
    with pytest.raises(SetupLinkDead) as dead:
        claim(store, token, now=NOW + hour)
    assert dead.value.state == "expired"
    with store.session() as db:
        assert setup_token_state(db, token, now=NOW) == "valid"  # the refusal spent nothing


def test_a_token_makes_one_owner_and_the_clinic_settings_then_is_spent(store: Store) -> None:
    token = issue(store)
    owner = claim(store, token)
    assert owner.role == "owner"
    with pytest.raises(SetupLinkDead) as dead:
        claim(store, token, email="second@lima.example")
    assert dead.value.state == "used"
    with store.session() as db:
        settings = get_clinic_settings(db)
        assert settings is not None and settings.time_zone == "Europe/Lisbon"
        assert db.scalar(select(func.count()).select_from(User)) == 1
        audit = [
            (e.actor, e.resource) for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
        assert audit == [("microamp serve", "setup-token"), ("ana@lima.example", "clinic-setup")]
        assert verify_audit_chain(db).intact
        with pytest.raises(StoreError, match="already has users"):
            issue_setup_token(db, now=NOW)


def test_bad_fields_are_refused_together_and_leave_the_token_unspent(store: Store) -> None:
    token = issue(store)
    with pytest.raises(InvalidValue) as refused, store.transaction() as db:
        claim_clinic(
            db, token, now=NOW, email="not-an-address", display_name="", password_hash="h",
            clinic_name="Lima", time_zone="Atlantis/Capital",
        )  # fmt: skip
    fields = {e.field for e in getattr(refused.value, "errors", [refused.value])}
    assert fields == {"email", "display_name", "time_zone"}
    with store.session() as db:
        assert setup_token_state(db, token, now=NOW) == "valid"


def test_two_claims_at_once_make_one_owner(store: Store) -> None:
    token = issue(store)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claimer(email: str) -> None:
        start.wait()
        try:
            claim(store, token, email=email)
            outcomes[email] = "owner"
        except SetupLinkDead as exc:
            outcomes[email] = exc.state

    threads = [threading.Thread(target=claimer, args=(f"{n}@lima.example",)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["owner", "used"], outcomes
    with store.session() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1
