"""Dates are facts about the past, and a contraindication found once stays on the client until
a practitioner or owner lifts it with a recorded reason: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinic.samples import cleared_answers
from microamp.clinic.gate import gate
from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.errors import InvalidValue
from microamp.store import (
    Client,
    SafetyFlag,
    Store,
    StoreSettings,
    add_progress_entry,
    client_history,
    create_client,
    create_user,
    gate_client,
    latest_screening,
    lift_flags,
    open_store,
    record_clearance,
    record_consent,
    record_intake,
)
from microamp.store.db import make_engine
from microamp.store.migrate import MIGRATIONS_DIR
from microamp.store.models import User

TODAY = date(2026, 12, 1)
KEPT = ("contraindicated", "clearance_required")


def _client(store: Store, *, consent: bool = True) -> int:
    with store.transaction() as session:
        client = create_client(
            session, full_name="Ana Lima", date_of_birth=date(1990, 4, 12), today=TODAY
        )
        if consent:
            record_consent(session, client_id=client.id, typed_signature="Ana Lima")
        return client.id


def _user(store: Store, role: str) -> int:
    with store.transaction() as session:
        return create_user(
            session, email=f"{role}@clinic.example", display_name=role.title(), role=role
        ).id


def _screen(store: Store, client_id: int, on: date = TODAY, **changes: object) -> None:
    with store.transaction() as session:
        record_intake(
            session, client_id=client_id, answers=cleared_answers(**changes), on=on, today=TODAY
        )


def _refused_rules(store: Store, client_id: int, on: date = TODAY) -> set[str | None]:
    with store.session() as session:
        return {r.rule_id for r in gate_client(session, client_id=client_id, on=on).refusals}


def _lift(store: Store, client_id: int, rule_id: str, user_id: int, reason: str = "gone") -> None:
    with store.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        lift_flags(session, client_id=client_id, rule_id=rule_id, reason=reason, by=user,
                   actor=user.email)  # fmt: skip


# -- dates are facts about the past ------------------------------------------------------------


def test_a_screening_dated_after_today_is_refused_naming_on(store: Store) -> None:
    client_id = _client(store)
    with pytest.raises(InvalidValue) as caught:
        _screen(store, client_id, on=TODAY + timedelta(days=1))
    assert caught.value.field == "on"
    with store.session() as session:
        assert latest_screening(session, client_id=client_id) is None


def test_a_screening_dated_today_is_the_clinic_day_and_accepted(store: Store) -> None:
    client_id = _client(store)
    _screen(store, client_id, on=TODAY)
    assert _refused_rules(store, client_id) == set()


@pytest.mark.parametrize(
    "key", ["last_injectables_date", "last_facial_procedure_date", "date_of_birth"]
)
def test_an_intake_date_after_today_is_refused_naming_it(store: Store, key: str) -> None:
    client_id = _client(store)
    with pytest.raises(InvalidValue) as caught:
        _screen(store, client_id, **{key: (TODAY + timedelta(days=1)).isoformat()})
    assert caught.value.field == key


def test_a_future_dated_screening_on_file_never_outranks_a_later_real_one(store: Store) -> None:
    client_id = _client(store)
    # as one kept before dates were checked: dated years ahead, recorded first
    with store.transaction() as session:
        record_intake(session, client_id=client_id, answers=cleared_answers(),
                      on=date(2030, 1, 1), today=date(2030, 1, 1))  # fmt: skip
    _screen(store, client_id, pregnant=True)
    assert _refused_rules(store, client_id) == {"pregnancy"}


def test_a_consent_signed_in_the_future_is_refused(store: Store) -> None:
    client_id = _client(store, consent=False)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with store.transaction() as session, pytest.raises(InvalidValue) as caught:
        record_consent(session, client_id=client_id, typed_signature="Ana Lima",
                       signed_at=now + timedelta(days=1), now=now)  # fmt: skip
    assert caught.value.field == "signed_at"


def test_a_clearance_issued_tomorrow_is_refused_but_may_stay_valid_for_years(
    store: Store,
) -> None:
    client_id = _client(store)
    with store.transaction() as session:
        with pytest.raises(InvalidValue) as caught:
            record_clearance(session, client_id=client_id, physician_name="Dr Sousa",
                             issued_on=TODAY + timedelta(days=1), today=TODAY)  # fmt: skip
        assert caught.value.field == "issued_on"
        row = record_clearance(session, client_id=client_id, physician_name="Dr Sousa",
                               issued_on=TODAY, today=TODAY, valid_until=date(2030, 1, 1))  # fmt: skip
        assert row.valid_until == date(2030, 1, 1)


def test_a_progress_photo_taken_tomorrow_is_refused(store: Store, tmp_path: Path) -> None:
    client_id = _client(store)
    with store.transaction() as session, pytest.raises(InvalidValue) as caught:
        add_progress_entry(session, client_id=client_id, taken_on=TODAY + timedelta(days=1),
                           today=TODAY)  # fmt: skip
    assert caught.value.field == "taken_on"


# -- a safety history that never forgets -------------------------------------------------------


def test_a_clean_rescreen_keeps_refusing_on_the_pacemaker_until_lifted(store: Store) -> None:
    client_id = _client(store)
    practitioner = _user(store, "practitioner")
    _screen(store, client_id, pacemaker_or_implanted_device=True)
    _screen(store, client_id)
    assert _refused_rules(store, client_id) == {"implanted_device"}
    _lift(store, client_id, "implanted_device", practitioner, "Explanted; cardiology letter")
    assert _refused_rules(store, client_id) == set()
    with store.session() as session:
        history = client_history(session, client_id=client_id)
    (flag,) = history["flags"]
    assert flag["lifted"] and flag["lift_reason"] == "Explanted; cardiology letter"
    assert flag["lifted_by"] == "practitioner@clinic.example"
    newest, first = history["screenings"]
    assert (newest["version"], first["version"]) == (2, 1)
    assert newest["changes"] == [
        {"question": "pacemaker_or_implanted_device", "was": True, "now": False}
    ]
    assert first["answers"]["pacemaker_or_implanted_device"] is True


def test_a_clearance_requirement_stays_until_a_clearance_covers_it(store: Store) -> None:
    client_id = _client(store)
    _screen(store, client_id, heart_condition=True)
    _screen(store, client_id)
    assert _refused_rules(store, client_id) == {"heart_condition"}
    with store.transaction() as session:
        record_clearance(session, client_id=client_id, physician_name="Dr Sousa",
                         issued_on=TODAY, today=TODAY, rule_ids=["heart_condition"])  # fmt: skip
    assert _refused_rules(store, client_id) == set()


def test_reception_cannot_lift_a_flag_nor_anyone_without_a_reason(store: Store) -> None:
    client_id = _client(store)
    reception = _user(store, "reception")
    owner = _user(store, "owner")
    _screen(store, client_id, epilepsy_or_seizures=True)
    with pytest.raises(InvalidValue) as caught:
        _lift(store, client_id, "epilepsy", reception)
    assert caught.value.field == "by"
    with pytest.raises(InvalidValue) as caught:
        _lift(store, client_id, "epilepsy", owner, reason="   ")
    assert caught.value.field == "reason"
    assert _refused_rules(store, client_id) == {"epilepsy"}


def test_a_lifted_flag_is_raised_again_by_a_screening_that_finds_it_again(store: Store) -> None:
    client_id = _client(store)
    owner = _user(store, "owner")
    _screen(store, client_id, pregnant=True)
    _lift(store, client_id, "pregnancy", owner, "Gave birth; not breastfeeding")
    _screen(store, client_id, pregnant=True)
    _screen(store, client_id)
    assert _refused_rules(store, client_id) == {"pregnancy"}
    with store.session() as session:
        flags = list(session.scalars(select(SafetyFlag).order_by(SafetyFlag.id)))
    assert [f.lifted_at is not None for f in flags] == [True, False]


answers_strategy = st.fixed_dictionaries(
    {key: st.booleans() for key in BOOLEAN_KEYS}
    | {
        "metal_in_face_zones": st.lists(st.sampled_from(["jawline", "chin", "forehead"])),
        "last_injectables_date": st.none()
        | st.dates(date(2026, 1, 1), date(2026, 6, 1)).map(date.isoformat),
    }
)
screenings_strategy = st.lists(
    st.tuples(answers_strategy, st.integers(min_value=0, max_value=150)), min_size=1, max_size=5
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(screenings=screenings_strategy)
def test_a_rule_kept_once_refuses_until_lifted_whatever_screenings_follow(
    store: Store, screenings: list[tuple[dict[str, object], int]]
) -> None:
    client_id = _client(store)
    with store.session() as session:
        owner = session.scalar(select(User.id).where(User.role == "owner"))
    owner = owner or _user(store, "owner")
    seen: set[str] = set()
    for answers, days_ago in screenings:
        with store.transaction() as session:
            form = record_intake(session, client_id=client_id, answers=cleared_answers(**answers),
                                 on=TODAY - timedelta(days=days_ago), today=TODAY)  # fmt: skip
            seen |= {r["rule_id"] for r in form.reasons if r["outcome"] in KEPT}
        assert seen <= _refused_rules(store, client_id)
    for rule_id in sorted(seen):
        _lift(store, client_id, rule_id, owner)
    with store.session() as session:
        latest = latest_screening(session, client_id=client_id, on=TODAY)
        consents = list(session.get_one(Client, client_id).consents)
        alone = gate(latest, consents=consents, clearances=[], on=TODAY)
    assert _refused_rules(store, client_id) == {r.rule_id for r in alone.refusals}


# -- upgrading keeps what is on file -----------------------------------------------------------


def test_upgrading_turns_contraindications_on_file_into_flags(
    database_url: str, settings: StoreSettings
) -> None:
    engine = make_engine(database_url, settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.exec_driver_sql(
            "INSERT INTO clients (id, full_name, date_of_birth, concerns, preferred_weekdays, "
            "notes, created_at) VALUES (1, 'Ben Carter', '1961-09-03', '[]', '[]', '', "
            "'2026-11-01 10:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO intake_forms (id, client_id, answers, rules_version, outcome, reasons, "
            "avoid_zones, screened_on, recorded_at) VALUES (1, 1, '{}', '1', 'contraindicated', "
            '\'[{"rule_id": "implanted_device", "outcome": "contraindicated", '
            "\"message\": \"Implanted device\"}]', '[]', '2030-01-01', '2026-11-02 10:00:00')"
        )
    engine.dispose()
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.session() as session:
            (flag,) = session.scalars(select(SafetyFlag))
            assert (flag.client_id, flag.rule_id, flag.intake_form_id) == (1, "implanted_device", 1)
            assert flag.raised_on == date(2026, 11, 2) and flag.lifted_at is None
            assert {r.rule_id for r in gate_client(session, client_id=1, on=TODAY).refusals} >= {
                "implanted_device"
            }
