"""Packages and payments: a package of N sessions of a service at a price, sold to a client
(credits, expiry), a credit used by each completed appointment of that service (through the
appointment book's completion hook, in the same transaction), the balance, payments recorded
as taken (amount, method, reference; nothing is processed) and a day's takings in the clinic's
time zone. The caller audits and commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book import add_completion_hook
from microamp.store.book_setup import get_service, get_settings
from microamp.store.crud import clean_text, get_client, get_or_404
from microamp.store.models import Appointment, Package
from microamp.store.package_models import PAYMENT_METHODS, ClientPackage, CreditUse, Payment

__all__ = [
    "Balance",
    "Takings",
    "balances",
    "create_package",
    "record_payment",
    "sell_package",
    "takings",
    "use_credit",
]


def create_package(
    session: Session,
    *,
    name: str,
    sessions: int,
    price_minor: int,
    service_id: int | None = None,
    valid_days: int | None = None,
    currency: str | None = None,
) -> Package:
    """A package of ``sessions`` sessions of ``service_id`` (None: any service) sold at
    ``price_minor``, usable ``valid_days`` days from the sale (None: no expiry)."""
    cleaned = clean_text("name", name)
    if not 1 <= sessions <= 500:
        raise InvalidValue("sessions", sessions, "a whole number 1-500")
    if not 0 <= price_minor <= 100_000_000:
        raise InvalidValue("price_minor", price_minor, "0 or more minor units (cents)")
    if valid_days is not None and not 1 <= valid_days <= 3660:
        raise InvalidValue("valid_days", valid_days, "1-3660 days, or none for no expiry")
    if session.scalar(select(Package.id).where(Package.name == cleaned)) is not None:
        raise InvalidValue("name", name, "another package has this name")
    service = get_service(session, service_id=service_id) if service_id is not None else None
    package = Package(
        name=cleaned, sessions=sessions, discount_pct=0.0,
        protocol_name=service.protocol_name if service else None,
        service_id=service_id, price_minor=price_minor, valid_days=valid_days,
        currency=(currency or (service.currency if service else get_settings(session).currency)).upper(),
    )  # fmt: skip
    session.add(package)
    session.flush()
    return package


def sell_package(
    session: Session, *, client_id: int, package_id: int, on: date, sold_by_id: int | None = None
) -> ClientPackage:
    """The package sold to the client on day ``on``: its credits, price and expiry copied, so a
    later change to the package leaves what was sold as it was."""
    client = get_client(session, client_id=client_id)
    if client.merged_into_id is not None:
        raise InvalidValue(
            "client_id", client_id, f"was merged into client {client.merged_into_id}"
        )
    package = get_or_404(session, Package, package_id)
    if package.price_minor is None:
        raise InvalidValue("package_id", package_id, "has no price: it is an estimate's discount")
    sold = ClientPackage(
        client_id=client.id, package_id=package.id, name=package.name,
        service_id=package.service_id, sessions_total=package.sessions,
        price_minor=package.price_minor, currency=package.currency or "USD", sold_on=on,
        expires_on=on + timedelta(days=package.valid_days) if package.valid_days else None,
        sold_by_id=sold_by_id,
    )  # fmt: skip
    session.add(sold)
    session.flush()
    return sold


@dataclass(frozen=True, slots=True)
class Balance:
    """A sold package's credits on a day: used, left, and whether it has expired."""

    package: ClientPackage
    used: int
    on: date

    @property
    def left(self) -> int:
        return 0 if self.expired else self.package.sessions_total - self.used

    @property
    def expired(self) -> bool:
        return self.package.expires_on is not None and self.package.expires_on < self.on


def balances(session: Session, *, client_id: int, on: date) -> list[Balance]:
    """The client's packages with their credits on day ``on``, the soonest to expire first."""
    used = dict(
        session.execute(
            select(CreditUse.client_package_id, func.count())
            .join(ClientPackage, ClientPackage.id == CreditUse.client_package_id)
            .where(ClientPackage.client_id == client_id)
            .group_by(CreditUse.client_package_id)
        ).all()
    )
    rows = session.scalars(
        select(ClientPackage)
        .where(ClientPackage.client_id == client_id)
        .order_by(ClientPackage.expires_on.is_(None), ClientPackage.expires_on, ClientPackage.id)
    )
    return [Balance(row, int(used.get(row.id, 0)), on) for row in rows]


def use_credit(session: Session, appointment: Appointment) -> CreditUse | None:
    """A credit of the client's package for the appointment's service (or for any service),
    unexpired on the appointment's day, the soonest to expire first; None when she has none
    (she pays for the visit). An appointment uses at most one credit, however often called."""
    if session.scalar(select(CreditUse.id).where(CreditUse.appointment_id == appointment.id)):
        return None
    for balance in balances(session, client_id=appointment.client_id, on=appointment.on_date):
        service = balance.package.service_id
        if balance.left > 0 and (service is None or service == appointment.service_id):
            use = CreditUse(
                client_package_id=balance.package.id,
                appointment_id=appointment.id,
                used_on=appointment.on_date,
            )
            session.add(use)
            session.flush()
            return use
    return None


def _credit_on_completion(session: Session, appointment: Appointment) -> None:
    use_credit(session, appointment)


add_completion_hook(_credit_on_completion)


def record_payment(
    session: Session,
    *,
    amount: str | Decimal | int,
    method: str,
    reference: str = "",
    client_id: int | None = None,
    client_package_id: int | None = None,
    currency: str | None = None,
    taken_at: datetime | None = None,
    recorded_by_id: int | None = None,
) -> Payment:
    """A payment as taken (``amount`` in major units, "120.00"); recorded, never processed."""
    try:
        value = Decimal(str(amount).strip())
    except ArithmeticError:
        raise InvalidValue("amount", amount, "an amount such as 120.00") from None
    if (
        not value.is_finite()
        or value <= 0
        or value != value.quantize(Decimal("0.01"))
        or value > 1_000_000
    ):
        raise InvalidValue("amount", amount, "an amount over 0 with at most 2 decimals")
    kind = method.strip().lower()
    if kind not in PAYMENT_METHODS:
        raise InvalidValue("method", method, f"one of {', '.join(PAYMENT_METHODS)}")
    if len(reference) > 200:
        raise InvalidValue("reference", reference[:20] + "…", "at most 200 characters")
    if client_id is not None:
        get_client(session, client_id=client_id)
    if client_package_id is not None:
        sold = get_or_404(session, ClientPackage, client_package_id)
        if client_id is not None and sold.client_id != client_id:
            raise InvalidValue("client_package_id", client_package_id, "is another client's")
        client_id = sold.client_id
    payment = Payment(
        client_id=client_id, client_package_id=client_package_id,
        amount_minor=int(value * 100), currency=(currency or get_settings(session).currency).upper(),
        method=kind, reference=reference.strip(), recorded_by_id=recorded_by_id,
        **({"taken_at": taken_at} if taken_at is not None else {}),
    )  # fmt: skip
    session.add(payment)
    session.flush()
    return payment


@dataclass(frozen=True, slots=True)
class Takings:
    """A day's payments: the totals in minor units by method, then currency."""

    day: date
    time_zone: str
    by_method: dict[str, dict[str, int]]
    payments: list[Payment]

    @property
    def count(self) -> int:
        return len(self.payments)


def takings(session: Session, *, day: date) -> Takings:
    """The payments taken on ``day`` in the clinic's time zone: the total by method and
    currency, the count, and the payments themselves, earliest first."""
    zone = clinic_zone(get_settings(session).time_zone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    rows = list(
        session.scalars(
            select(Payment)
            .where(Payment.taken_at >= start, Payment.taken_at < end)
            .order_by(Payment.taken_at, Payment.id)
        )
    )
    by_method: dict[str, dict[str, int]] = {}
    for row in rows:
        per = by_method.setdefault(row.method, {})
        per[row.currency] = per.get(row.currency, 0) + row.amount_minor
    return Takings(day, zone.key, by_method, rows)
