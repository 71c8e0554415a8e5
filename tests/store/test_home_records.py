"""The home companion's records on SQLite and PostgreSQL: one account per home app, a log sent
twice is one row, a day's seconds and its done days, refusals name the field, every write is
audited with the home account as the actor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from microamp.clinic.intake import nothing_to_report
from microamp.errors import InvalidValue, InvalidValues
from microamp.store.access import AuditEntry
from microamp.store.db import Store
from microamp.store.home import (
    create_home_account,
    done_days,
    home_account,
    home_gate,
    home_health_answers,
    home_sessions,
    record_home_health,
    record_home_session,
    seconds_on,
    set_preferences,
)

DAY = date(2030, 3, 4)


def _account(store: Store) -> int:
    with store.transaction() as db:
        return create_home_account(db, display_name="Ines", date_of_birth=date(1979, 2, 3),
                                   password_hash="x", plan_start=DAY, today=DAY).id  # fmt: skip


def _log(store: Store, uuid: str, *, on: date = DAY, seconds: float = 240.0,
         status: str = "completed") -> bool:  # fmt: skip
    with store.transaction() as db:
        account = home_account(db)
        assert account is not None
        _row, new = record_home_session(db, account, uuid=uuid, protocol_name="home-express",
                                        protocol_hash="sha256:abc", on_date=on,
                                        seconds_done=seconds, steps_done=[], status=status,
                                        cues=3, max_seconds=1200)  # fmt: skip
        return new


def test_a_second_account_is_refused(store: Store) -> None:
    _account(store)
    with pytest.raises(InvalidValue) as raised, store.transaction() as db:
        create_home_account(db, display_name="Other", date_of_birth=date(1980, 1, 1),
                            password_hash="x", plan_start=DAY, today=DAY)  # fmt: skip
    assert raised.value.field == "account"


def test_a_log_sent_twice_is_one_row_and_the_days_add_up(store: Store) -> None:
    _account(store)
    assert _log(store, "log-0000-0001") is True
    assert _log(store, "log-0000-0001") is False
    assert _log(store, "log-0000-0002", seconds=60, status="stopped") is True
    assert _log(store, "log-0000-0003", on=DAY + timedelta(days=1)) is True
    with store.transaction() as db:
        account = home_account(db)
        assert account is not None
        assert seconds_on(db, account, DAY) == 300.0
        # a routine ended early is time used, not a day done
        assert done_days(db, account) == {DAY, DAY + timedelta(days=1)}
        assert len(home_sessions(db, client_id=account.client_id)) == 3
        actors = set(db.scalars(select(AuditEntry.actor)))
        assert actors == {f"home:{account.id}"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"status": "lost"}, "status"), ({"seconds_done": 99_999.0}, "seconds_done"),
     ({"uuid": "no"}, "uuid")],
)  # fmt: skip
def test_a_bad_log_is_refused_naming_the_field(
    store: Store, changes: dict[str, object], field: str
) -> None:
    _account(store)
    fields: dict[str, object] = {"uuid": "log-0000-0009", "protocol_name": "home-express",
                                 "protocol_hash": "sha256:abc", "on_date": DAY,
                                 "seconds_done": 10.0, "steps_done": [], "status": "completed",
                                 "cues": 1, "max_seconds": 1200.0} | changes  # fmt: skip
    with pytest.raises(InvalidValue) as raised, store.transaction() as db:
        account = home_account(db)
        assert account is not None
        record_home_session(db, account, **fields)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_preferences_are_kept_sorted_and_audited(store: Store) -> None:
    _account(store)
    with store.transaction() as db:
        account = home_account(db)
        assert account is not None
        set_preferences(db, account, skipped=["masseter", "eyes", "masseter"],
                        zone_levels={"cheeks": 0.5})  # fmt: skip
    with store.transaction() as db:
        account = home_account(db)
        assert account is not None
        assert account.skipped == ["eyes", "masseter"]
        assert account.zone_levels == {"cheeks": 0.5}


def test_her_health_answers_are_screened_signed_and_gated_like_any_clients(store: Store) -> None:
    _account(store)
    with store.transaction() as db:
        account = home_account(db)
        assert account is not None
        assert home_gate(db, account, on=DAY).allowed is False
        answers = nothing_to_report(date(1979, 2, 3), epilepsy_or_seizures=True)
        decision = record_home_health(db, account, answers=answers, typed_signature=" ines ",
                                      today=DAY)  # fmt: skip
        assert not decision.allowed
        codes = [r.code for r in decision.refusals]
        assert codes and "no_consent" not in codes  # signed: only the epilepsy refuses
        assert home_health_answers(db, account)["epilepsy_or_seizures"] is True


def test_a_wrong_signature_and_an_unanswered_question_are_both_named(store: Store) -> None:
    _account(store)
    with store.transaction() as db:
        account = home_account(db)
        assert account is not None
        answers = nothing_to_report(date(1979, 2, 3))
        del answers["diabetes"]
        with pytest.raises(InvalidValues) as raised:
            record_home_health(db, account, answers=answers, typed_signature="Maria", today=DAY)
        assert [e.field for e in raised.value.errors] == ["diabetes", "typed_signature"]
