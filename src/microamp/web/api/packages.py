"""Packages and payments: packages on offer (the owner defines them), a client's packages and
their credits (reception sells them), payments as recorded, and a day's takings. No card is
processed: a payment is a record of one taken."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from microamp.store.book_setup import get_settings
from microamp.store.models import Package
from microamp.store.package_models import Payment
from microamp.store.packages import (
    Balance,
    balances,
    create_package,
    record_payment,
    sell_package,
    takings,
)
from microamp.web.api.responses import invalid
from microamp.web.deps import MAX_ROW_ID, ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["packages"])


class PackageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    sessions: int = Field(ge=1, le=500)
    price_minor: int = Field(ge=0, le=100_000_000)
    service_id: int | None = Field(None, ge=1, le=MAX_ROW_ID)
    valid_days: int | None = Field(None, ge=1, le=3660)


class PackagePublic(BaseModel):
    id: int
    name: str
    sessions: int
    price_minor: int | None
    currency: str | None
    service_id: int | None
    valid_days: int | None

    @classmethod
    def of(cls, row: Package) -> PackagePublic:
        return cls(id=row.id, name=row.name, sessions=row.sessions, price_minor=row.price_minor,
                   currency=row.currency, service_id=row.service_id, valid_days=row.valid_days)  # fmt: skip


class SaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_id: int = Field(ge=1, le=MAX_ROW_ID)


class ClientPackagePublic(BaseModel):
    id: int
    name: str
    service_id: int | None
    sessions_total: int
    used: int
    left: int
    expired: bool
    price_minor: int
    currency: str
    sold_on: date
    expires_on: date | None

    @classmethod
    def of(cls, balance: Balance) -> ClientPackagePublic:
        row = balance.package
        return cls(id=row.id, name=row.name, service_id=row.service_id,
                   sessions_total=row.sessions_total, used=balance.used, left=balance.left,
                   expired=balance.expired, price_minor=row.price_minor, currency=row.currency,
                   sold_on=row.sold_on, expires_on=row.expires_on)  # fmt: skip


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str = Field(max_length=20, description="In major units: 120.00")
    method: str = Field(max_length=20)
    reference: str = Field("", max_length=200)
    client_id: int | None = Field(None, ge=1, le=MAX_ROW_ID)
    client_package_id: int | None = Field(None, ge=1, le=MAX_ROW_ID)


class PaymentPublic(BaseModel):
    id: int
    amount_minor: int
    currency: str
    method: str
    reference: str
    client_id: int | None
    client_package_id: int | None
    taken_at: datetime

    @classmethod
    def of(cls, row: Payment) -> PaymentPublic:
        return cls(id=row.id, amount_minor=row.amount_minor, currency=row.currency,
                   method=row.method, reference=row.reference, client_id=row.client_id,
                   client_package_id=row.client_package_id, taken_at=row.taken_at)  # fmt: skip


class TakingsPublic(BaseModel):
    day: date
    time_zone: str
    count: int
    by_method: dict[str, dict[str, int]]
    payments: list[PaymentPublic]


@router.get("/packages")
def packages(_user: ApiUser, db: DbDep) -> list[PackagePublic]:
    """Every package, by the number of sessions."""
    return [PackagePublic.of(p) for p in db.scalars(select(Package).order_by(Package.sessions))]


@router.post(
    "/packages",
    status_code=201,
    responses=invalid(
        "`name` is taken or empty, or `sessions`, `price_minor` or `valid_days` is out of range"
    ),
)
def add_package(user: ApiUser, db: DbDep, body: PackageCreate) -> PackagePublic:
    row = create_package(db, name=body.name, sessions=body.sessions, price_minor=body.price_minor,
                         service_id=body.service_id, valid_days=body.valid_days)  # fmt: skip
    answer = PackagePublic.of(row)
    audit(db, user, "write", f"package:{row.id}", change="created")
    return answer


@router.get(
    "/clients/{client_id}/packages",
    responses=invalid("The id in the path is not a whole number from 1 to 2147483647"),
)
def client_packages(_user: ApiUser, db: DbDep, client_id: RowId) -> list[ClientPackagePublic]:
    """The client's packages with their credits today (in the clinic's time zone)."""
    today = _today(db)
    return [ClientPackagePublic.of(b) for b in balances(db, client_id=client_id, on=today)]


@router.post(
    "/clients/{client_id}/packages",
    status_code=201,
    responses=invalid("`package_id` has no price, or the client was merged into another"),
)
def sell(user: ApiUser, db: DbDep, client_id: RowId, body: SaleCreate) -> ClientPackagePublic:
    today = _today(db)
    row = sell_package(db, client_id=client_id, package_id=body.package_id, on=today,
                       sold_by_id=user.id)  # fmt: skip
    answer = ClientPackagePublic.of(Balance(row, 0, today))
    audit(db, user, "write", f"client:{client_id}/package", client_id=client_id,
          client_package_id=row.id)  # fmt: skip
    return answer


@router.post(
    "/payments",
    status_code=201,
    responses=invalid(
        "`amount` is not over 0 with at most 2 decimals, `method` not cash, card, transfer, voucher or other, or `client_package_id` is another client's"
    ),
)
def add_payment(user: ApiUser, db: DbDep, body: PaymentCreate) -> PaymentPublic:
    row = record_payment(db, amount=body.amount, method=body.method, reference=body.reference,
                         client_id=body.client_id, client_package_id=body.client_package_id,
                         recorded_by_id=user.id)  # fmt: skip
    answer = PaymentPublic.of(row)
    audit(db, user, "write", f"payment:{row.id}", client_id=row.client_id, method=row.method,
          amount_minor=row.amount_minor)  # fmt: skip
    return answer


@router.get("/takings", responses=invalid("`day` is not a date"))
def day_takings(
    _user: ApiUser, db: DbDep, day: Annotated[date | None, Query()] = None
) -> TakingsPublic:
    """The payments taken on ``day`` (default: today) in the clinic's time zone, by method."""
    found = takings(db, day=day or _today(db))
    return TakingsPublic(day=found.day, time_zone=found.time_zone, count=found.count,
                         by_method=found.by_method,
                         payments=[PaymentPublic.of(p) for p in found.payments])  # fmt: skip


def _today(db: DbDep) -> date:
    from microamp.clinic.booking import clinic_zone
    from microamp.store.base import utc_now

    return utc_now().astimezone(clinic_zone(get_settings(db).time_zone)).date()
