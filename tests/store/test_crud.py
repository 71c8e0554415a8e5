"""Clients, intake, consent, clearance and the gate, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from clinic.samples import cleared_answers
from microamp.clinic.consent import current_consent_version
from microamp.errors import InvalidValue, NotFound
from microamp.store import (
    Store,
    create_client,
    create_user,
    gate_client,
    get_client,
    latest_screening,
    list_clients,
    record_clearance,
    record_consent,
    record_intake,
)

DAY = date(2026, 11, 21)


def add_ana(store: Store) -> int:
    with store.transaction() as session:
        client = create_client(
            session,
            full_name="  Ana   Lima ",
            date_of_birth=date(1990, 4, 12),
            email="ana@example.org",
            fitzpatrick_type="III",
            concerns=["jowls", "fine lines"],
            preferred_weekdays=["Mon", "thu"],
        )
        return client.id


def test_clients_are_created_found_and_listed(store: Store) -> None:
    client_id = add_ana(store)
    with store.transaction() as session:
        create_client(session, full_name="Bea Costa", date_of_birth=date(1985, 1, 1))
    with store.session() as session:
        client = get_client(session, client_id=client_id)
        assert (client.full_name, client.fitzpatrick_type) == ("Ana Lima", 3)
        assert client.concerns == ["jowls", "fine lines"]
        assert client.preferred_weekdays == ["mon", "thu"]
        assert client.created_at.tzinfo is UTC
        assert [c.full_name for c in list_clients(session)] == ["Ana Lima", "Bea Costa"]
        assert [c.full_name for c in list_clients(session, search="bea")] == ["Bea Costa"]
        with pytest.raises(NotFound, match="no client 999"):
            get_client(session, client_id=999)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"full_name": " "}, "full_name"),
        ({"date_of_birth": date(2030, 1, 1)}, "date_of_birth"),
        ({"email": "not-an-address"}, "email"),
        ({"fitzpatrick_type": "VII"}, "skin_type"),
        ({"preferred_weekdays": ["someday"]}, "preferred_weekdays"),
    ],
)
def test_bad_client_details_are_refused(
    store: Store, changes: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {
        "full_name": "Ana Lima",
        "date_of_birth": date(1990, 4, 12),
    } | changes
    with store.transaction() as session, pytest.raises(InvalidValue) as caught:
        create_client(session, **values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_database_refuses_an_impossible_skin_type(store: Store) -> None:
    client_id = add_ana(store)
    with pytest.raises(IntegrityError), store.transaction() as session:
        get_client(session, client_id=client_id).fitzpatrick_type = 9


def test_users_have_a_role_and_unique_email(store: Store) -> None:
    with store.transaction() as session:
        user = create_user(
            session, email="owner@clinic.example", display_name="Owner", role="owner"
        )
        assert user.password_hash is None
    with store.transaction() as session:
        with pytest.raises(InvalidValue, match="another user"):
            create_user(session, email="owner@clinic.example", display_name="Again")
        with pytest.raises(InvalidValue, match="role"):
            create_user(session, email="x@clinic.example", display_name="X", role="admin")


def test_an_intake_form_keeps_answers_outcome_reasons_and_rules_version(store: Store) -> None:
    client_id = add_ana(store)
    with store.transaction() as session:
        user = create_user(session, email="p@clinic.example", display_name="Pat")
        form = record_intake(
            session,
            client_id=client_id,
            answers=cleared_answers(
                metal_in_face_zones=["jawline"], last_injectables_date="2026-11-15"
            ),
            on=DAY,
            today=DAY,
            recorded_by_id=user.id,
        )
        assert form.outcome == "deferred" and form.recorded_by_id == user.id
    with store.session() as session:
        result = latest_screening(session, client_id=client_id)
    assert result is not None
    assert str(result.outcome) == "deferred"
    assert result.deferred_until == date(2026, 11, 29)
    assert result.avoid_zones == ("jawline",)
    assert {r.rule_id for r in result.reasons} == {"recent_injectables", "metal_in_zone"}
    assert result.answers["metal_in_face_zones"] == ["jawline"]


def test_intake_answers_must_match_the_clients_date_of_birth(store: Store) -> None:
    client_id = add_ana(store)
    with store.transaction() as session, pytest.raises(InvalidValue, match="date_of_birth"):
        record_intake(
            session,
            client_id=client_id,
            answers=cleared_answers(date_of_birth="1991-04-12"),
            on=DAY,
            today=DAY,
        )


def test_consent_is_signed_by_typing_the_name(store: Store) -> None:
    client_id = add_ana(store)
    with store.transaction() as session:
        with pytest.raises(InvalidValue, match="typed_signature"):
            record_consent(session, client_id=client_id, typed_signature="A. L.")
        consent = record_consent(
            session,
            client_id=client_id,
            typed_signature="ana lima",
            signed_at=datetime(2026, 11, 21, 9, tzinfo=UTC),
        )
        assert consent.text_version == current_consent_version()
    with store.session() as session:
        stored = get_client(session, client_id=client_id).consents[0]
        assert stored.signed_at == datetime(2026, 11, 21, 9, tzinfo=UTC)


def test_the_gate_refuses_a_contraindicated_client_with_consent_on_file(store: Store) -> None:
    client_id = add_ana(store)
    with store.transaction() as session:
        record_intake(
            session,
            client_id=client_id,
            answers=cleared_answers(epilepsy_or_seizures=True),
            on=DAY,
            today=DAY,
        )
        record_consent(session, client_id=client_id, typed_signature="Ana Lima")
    with store.session() as session:
        decision = gate_client(session, client_id=client_id, on=DAY)
    assert not decision.allowed
    assert [r.code for r in decision.refusals] == ["contraindicated"]


def test_the_gate_opens_once_clearance_and_consent_are_recorded(store: Store) -> None:
    client_id = add_ana(store)
    with store.transaction() as session:
        assert [r.code for r in gate_client(session, client_id=client_id, on=DAY).refusals] == [
            "no_screening",
            "no_consent",
        ]
        record_intake(
            session,
            client_id=client_id,
            answers=cleared_answers(heart_condition=True, skin_conditions_zones=["chin"]),
            on=DAY,
            today=DAY,
        )
        assert [r.code for r in gate_client(session, client_id=client_id, on=DAY).refusals] == [
            "clearance_missing",
            "no_consent",
        ]
        record_consent(session, client_id=client_id, typed_signature="Ana Lima")
        with pytest.raises(InvalidValue, match="valid_until"):
            record_clearance(
                session,
                client_id=client_id,
                physician_name="Dr Sousa",
                issued_on=DAY,
                today=DAY,
                valid_until=date(2026, 1, 1),
            )
        record_clearance(
            session,
            client_id=client_id,
            physician_name="Dr Sousa",
            issued_on=DAY,
            today=DAY,
            rule_ids=["heart_condition"],
        )
    with store.session() as session:
        decision = gate_client(session, client_id=client_id, on=DAY)
    assert decision.allowed and decision.avoid_zones == ("chin",)
