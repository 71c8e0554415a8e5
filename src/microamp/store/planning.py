"""Course plans, prices and packages in the store, and when a progress check-in is due."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microamp.clinic import plans as clinic_plans
from microamp.clinic.pricing import CENT, CostEstimate, PackageOffer, estimate_cost
from microamp.errors import InvalidValue, NotFound
from microamp.store.crud import clean_text, get_client, get_or_404
from microamp.store.models import Appointment, CoursePlan, Package, Price, ProgressEntry
from microamp.store.session_models import TreatmentSession

__all__ = [
    "add_package",
    "checkin_due",
    "estimate_plan_cost",
    "get_plan",
    "get_price",
    "list_packages",
    "save_plan",
    "set_price",
]


def _cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def set_price(
    session: Session, *, protocol_name: str, amount: Decimal, currency: str = "USD"
) -> Price:
    """Set (or change) the price of one session of ``protocol_name``."""
    if not amount.is_finite() or amount < 0:
        raise InvalidValue("amount", str(amount), "must be 0 or more")
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidValue("currency", currency, "a three-letter code such as USD or EUR")
    name = clean_text("protocol_name", protocol_name)
    price = session.scalar(select(Price).where(Price.protocol_name == name))
    if price is None:
        price = Price(protocol_name=name, amount_cents=0)
        session.add(price)
    price.amount_cents = _cents(amount)
    price.currency = currency.upper()
    session.flush()
    return price


def get_price(session: Session, *, protocol_name: str) -> Decimal:
    """The price of one session of ``protocol_name``, or `NotFound`."""
    cents = session.scalar(select(Price.amount_cents).where(Price.protocol_name == protocol_name))
    if cents is None:
        raise NotFound(f"no price for protocol {protocol_name!r}")
    return Decimal(cents) * CENT


def add_package(
    session: Session,
    *,
    name: str,
    sessions: int,
    discount_pct: Decimal,
    protocol_name: str | None = None,
) -> Package:
    """A package of ``sessions`` sessions at ``discount_pct`` percent off."""
    offer = PackageOffer(clean_text("name", name), sessions, discount_pct)
    package = Package(
        name=offer.name,
        sessions=offer.sessions,
        discount_pct=float(offer.discount_pct),
        protocol_name=protocol_name,
    )
    session.add(package)
    session.flush()
    return package


def list_packages(session: Session, *, protocol_name: str | None = None) -> list[PackageOffer]:
    """Packages for ``protocol_name`` and those for any protocol."""
    query = select(Package).order_by(Package.sessions)
    if protocol_name is not None:
        query = query.where(
            (Package.protocol_name == protocol_name) | (Package.protocol_name.is_(None))
        )
    return [
        PackageOffer(p.name, p.sessions, Decimal(str(p.discount_pct)))
        for p in session.scalars(query)
    ]


def estimate_plan_cost(
    session: Session, *, plan: clinic_plans.CoursePlan, protocol_name: str
) -> CostEstimate:
    """What ``plan`` costs at the protocol's price, with the best packages on file."""
    return estimate_cost(
        len(plan.sessions),
        per_session=get_price(session, protocol_name=protocol_name),
        packages=list_packages(session, protocol_name=protocol_name),
    )


def save_plan(
    session: Session,
    *,
    client_id: int,
    plan: clinic_plans.CoursePlan,
    protocol_name: str | None = None,
    price_per_session: Decimal | None = None,
    estimated_cost: Decimal | None = None,
    created_by_id: int | None = None,
) -> CoursePlan:
    """Keep a plan and one appointment per session."""
    client = get_client(session, client_id=client_id)
    row = CoursePlan(
        client_id=client.id,
        template=plan.template,
        protocol_name=protocol_name,
        start_date=plan.start,
        weekdays=[clinic_plans.WEEKDAYS[d] for d in plan.weekdays],
        months=plan.months,
        price_per_session_cents=None if price_per_session is None else _cents(price_per_session),
        estimated_cost_cents=None if estimated_cost is None else _cents(estimated_cost),
        created_by_id=created_by_id,
        appointments=[
            Appointment(
                client_id=client.id,
                number=s.number,
                on_date=s.on_date,
                phase=s.phase,
                checkin=s.checkin,
                state="booked",
            )
            for s in plan.sessions
        ],
    )
    session.add(row)
    session.flush()
    return row


def get_plan(session: Session, *, plan_id: int) -> CoursePlan:
    return get_or_404(session, CoursePlan, plan_id)


def checkin_due(session: Session, *, client_id: int) -> bool:
    """Whether to prompt a progress check-in: the client has completed at least
    `CHECKIN_AFTER_SESSION` sessions and no progress entry is dated on or after the day of the
    session that reached it."""
    completed = list(
        session.scalars(
            select(TreatmentSession.ended_at)
            .where(TreatmentSession.client_id == client_id, TreatmentSession.status == "completed")
            .order_by(TreatmentSession.ended_at)
        )
    )
    if len(completed) < clinic_plans.CHECKIN_AFTER_SESSION:
        return False
    reached = completed[clinic_plans.CHECKIN_AFTER_SESSION - 1]
    last_taken = session.scalar(
        select(func.max(ProgressEntry.taken_on)).where(ProgressEntry.client_id == client_id)
    )
    return reached is not None and (last_taken is None or last_taken < reached.date())
