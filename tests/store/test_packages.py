"""Packages, credits and payments on both databases: a package sold to a client, a credit used
by each completed appointment of its service (once, through the book's completion hook), none
after expiry or for another service, the balance, payments as recorded and the day's takings
in the clinic's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store import Store
from microamp.store.book import book_appointment, link_session, set_state
from microamp.store.models import Appointment
from microamp.store.packages import (
    balances,
    create_package,
    record_payment,
    sell_package,
    takings,
    use_credit,
)
from support.clinic_book import MONDAY, Clinic, seed_clinic


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


def _completed(session: Session, clinic: Clinic, hour: int, *, day: date = MONDAY,
               service: int | None = None) -> Appointment:  # fmt: skip
    visit = book_appointment(
        session, client_id=clinic.clients[0], service_id=service or clinic.facial,
        room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
        start=datetime(day.year, day.month, day.day, hour, 0),
    )  # fmt: skip
    link_session(session, appointment_id=visit.id, treatment_session_id=10_000 + visit.id)
    return set_state(session, appointment_id=visit.id, state="completed")


def test_completed_appointments_use_the_packages_credits_until_none_is_left(
    store: Store, clinic: Clinic
) -> None:
    with store.transaction() as session:
        package = create_package(session, name="Three facials", sessions=3, price_minor=30000,
                                 service_id=clinic.facial, valid_days=90)  # fmt: skip
        sold = sell_package(session, client_id=clinic.clients[0], package_id=package.id,
                            on=MONDAY - timedelta(days=7))  # fmt: skip
        assert (sold.currency, sold.expires_on) == ("EUR", MONDAY + timedelta(days=83))
        visits = [_completed(session, clinic, hour) for hour in (9, 11, 13, 15)]
        # an appointment uses one credit however often its completion is heard
        assert use_credit(session, visits[0]) is None
    with store.session() as session:
        (balance,) = balances(session, client_id=clinic.clients[0], on=MONDAY)
        assert (balance.used, balance.left, balance.expired) == (3, 0, False)


def test_no_credit_after_expiry_or_for_another_service(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        package = create_package(session, name="Two facials", sessions=2, price_minor=20000,
                                 service_id=clinic.facial, valid_days=3)  # fmt: skip
        sell_package(session, client_id=clinic.clients[0], package_id=package.id, on=MONDAY)
        _completed(session, clinic, 9, service=clinic.short)
        _completed(session, clinic, 10, day=MONDAY + timedelta(days=4))
        (balance,) = balances(session, client_id=clinic.clients[0], on=MONDAY)
        assert (balance.used, balance.left) == (0, 2)
        later = balances(session, client_id=clinic.clients[0], on=MONDAY + timedelta(days=4))
        assert (later[0].left, later[0].expired) == (0, True)


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("sessions", {"sessions": 0}),
        ("price_minor", {"price_minor": -1}),
        ("valid_days", {"valid_days": 0}),
        ("name", {"name": " "}),
    ],
)
def test_a_package_refuses_a_bad_value(
    store: Store, clinic: Clinic, field: str, given: dict[str, object]
) -> None:
    fields: dict[str, object] = {"name": "Pack", "sessions": 5, "price_minor": 100} | given
    with store.transaction() as session, pytest.raises(InvalidValue) as refused:
        create_package(session, **fields)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_takings_count_payments_by_method_on_the_clinics_day(store: Store, clinic: Clinic) -> None:
    # Lisbon is UTC+0 in winter and UTC+1 in summer: 23:30 UTC on 30 June is 1 July there
    with store.transaction() as session:
        client = clinic.clients[0]
        record_payment(session, amount="120.00", method="card", reference="R-1", client_id=client,
                       taken_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # fmt: skip
        record_payment(session, amount="30", method="Cash", client_id=client,
                       taken_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))  # fmt: skip
        record_payment(session, amount="45.50", method="card",
                       taken_at=datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # fmt: skip
        for bad in ({"amount": "0"}, {"amount": "1.234"}, {"amount": "x"}, {"method": "bitcoin"}):
            fields: dict[str, object] = {"amount": "10", "method": "cash"} | bad
            with pytest.raises(InvalidValue) as refused:
                record_payment(session, **fields)  # type: ignore[arg-type]
            assert refused.value.field == next(iter(bad))
    with store.session() as session:
        day = takings(session, day=date(2026, 7, 1))
        assert (day.count, day.by_method) == (
            2,
            {"card": {"USD": 12000}, "cash": {"USD": 3000}},
        )
        assert day.time_zone == "Europe/Lisbon"
