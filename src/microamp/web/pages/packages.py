"""Packages and payments in the pages: the owner's packages on offer (add one), reception
selling one to a client and recording a payment from the client page, and the day's takings
by method in the clinic's time zone. Nothing is processed: a payment is a record of one taken.

A bad value sends the form back (422) with what was typed and the error beside the field;
every write is audited in the transaction that makes it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book_models import Service
from microamp.store.models import Client, Package, User
from microamp.store.package_models import PAYMENT_METHODS, ClientPackage
from microamp.store.packages import create_package, record_payment, sell_package, takings
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import field_errors
from microamp.web.pages.clients import client_page_refusing, clinic_today
from microamp.web.render import page

__all__ = ["router"]

router = APIRouter(dependencies=[CsrfChecked])

_PACKAGE_LABELS = {
    "name": "Name",
    "sessions": "Sessions",
    "price_minor": "Price",
    "price": "Price",
    "service_id": "Service",
    "valid_days": "Valid for",
}
_PACKAGE_FIELDS = {"price_minor": "price"}
_SALE_LABELS = {"package_id": "Package", "client_id": "Client"}
_SALE_TARGETS = {"package_id": "sale_package"}
_PAYMENT_LABELS = {
    "amount": "Amount",
    "method": "Method",
    "reference": "Reference",
    "client_package_id": "For the package",
}
_PAYMENT_TARGETS = {"amount": "pay_amount", "method": "pay_method",
                    "reference": "pay_reference", "client_package_id": "pay_package"}  # fmt: skip


def _whole(field: str, raw: str, rule: str, *, optional: bool = False) -> int | None:
    text = raw.strip()
    if optional and not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise InvalidValue(field, raw, rule)
    return int(text)


def _price_minor(raw: str) -> int:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise InvalidValue("price", raw, "an amount such as 600.00") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidValue("price", raw, "an amount of 0 or more with at most 2 decimals")
    if value > 1_000_000:
        raise InvalidValue("price", raw, "at most 1,000,000")
    return int(value * 100)


def _packages_page(
    request: Request, user: User, db: Session, *, status_code: int = 200,
    errors: list[Any] | None = None, typed: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    services = list(db.scalars(select(Service).order_by(Service.name)))
    rows = list(db.scalars(select(Package).order_by(Package.name)))
    sold = set(db.scalars(select(ClientPackage.package_id).distinct()))
    return page(request, "packages.html", user, status_code=status_code, title="Packages",
                packages=rows, services={s.id: s for s in services}, sold=sold,
                errors=errors or [], typed=typed or {})  # fmt: skip


@router.get("/packages")
def packages_page(request: Request, user: PageUser, db: DbDep) -> Response:
    return _packages_page(request, user, db)


@router.post("/packages")
def add_package(
    request: Request,
    user: PageUser,
    db: DbDep,
    name: Annotated[str, Form(max_length=400)] = "",
    sessions: Annotated[str, Form(max_length=20)] = "",
    price: Annotated[str, Form(max_length=30)] = "",
    service_id: Annotated[str, Form(max_length=20)] = "",
    valid_days: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    typed = {"name": name, "sessions": sessions, "price": price, "service_id": service_id,
             "valid_days": valid_days}  # fmt: skip
    try:
        count = _whole("sessions", sessions, "a whole number 1-500")
        assert count is not None
        row = create_package(
            db, name=name, sessions=count, price_minor=_price_minor(price),
            service_id=_whole("service_id", service_id, "choose a service", optional=True),
            valid_days=_whole("valid_days", valid_days, "1-3660 days, or empty for no expiry",
                              optional=True),
        )  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, _PACKAGE_LABELS, fields=_PACKAGE_FIELDS)
        return _packages_page(request, user, db, status_code=422, errors=errors, typed=typed)
    audit(db, user, "write", f"package:{row.id}", change="created")
    return RedirectResponse("/packages", status_code=303)


@router.post("/clients/{client_id}/packages")
def sell(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    package_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        chosen = _whole("package_id", package_id, "choose a package to sell")
        assert chosen is not None
        row = sell_package(db, client_id=client_id, package_id=chosen, on=clinic_today(db),
                           sold_by_id=user.id)  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, _SALE_LABELS, _SALE_TARGETS)
        return client_page_refusing(request, user, db, client_id, "sale", errors,
                                    {"package_id": package_id})  # fmt: skip
    audit(db, user, "write", f"client:{client_id}/package", client_id=client_id,
          client_package_id=row.id)  # fmt: skip
    return RedirectResponse(f"/clients/{client_id}?sold={row.id}#packages-title", status_code=303)


@router.post("/clients/{client_id}/payments")
def pay(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    amount: Annotated[str, Form(max_length=30)] = "",
    method: Annotated[str, Form(max_length=20)] = "",
    reference: Annotated[str, Form(max_length=400)] = "",
    client_package_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    typed = {"amount": amount, "method": method, "reference": reference,
             "client_package_id": client_package_id}  # fmt: skip
    try:
        if not method.strip():
            raise InvalidValue("method", method, f"one of {', '.join(PAYMENT_METHODS)}")
        row = record_payment(
            db, amount=amount, method=method, reference=reference, client_id=client_id,
            client_package_id=_whole("client_package_id", client_package_id,
                                     "choose one of the client's packages", optional=True),
            recorded_by_id=user.id,
        )  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, _PAYMENT_LABELS, _PAYMENT_TARGETS)
        return client_page_refusing(request, user, db, client_id, "payment", errors, typed)
    audit(db, user, "write", f"payment:{row.id}", client_id=client_id, method=row.method,
          amount_minor=row.amount_minor)  # fmt: skip
    return RedirectResponse(f"/clients/{client_id}?paid={row.id}#payments-title", status_code=303)


@router.get("/takings")
def takings_page(request: Request, user: PageUser, db: DbDep, day: str = "") -> Response:
    today = clinic_today(db)
    errors: list[Any] = []
    chosen = today
    if day.strip():
        try:
            chosen = date.fromisoformat(day.strip()[:10])
        except ValueError:
            errors = field_errors(InvalidValue("day", day[:40], "a date as YYYY-MM-DD"),
                                  {"day": "Day"})  # fmt: skip
    found = takings(db, day=chosen)
    zone = clinic_zone(found.time_zone)
    shown: list[tuple[datetime, Any]] = [(p.taken_at.astimezone(zone), p) for p in found.payments]
    names = dict(db.execute(select(User.id, User.display_name)).all())
    ids = {p.client_id for p in found.payments if p.client_id is not None}
    clients = (
        dict(db.execute(select(Client.id, Client.full_name).where(Client.id.in_(ids))).all())
        if ids
        else {}
    )
    return page(request, "takings.html", user, status_code=422 if errors else 200,
                title="Takings", takings=found, shown=shown, day=chosen, today=today,
                typed_day=day[:40] if errors else chosen.isoformat(), errors=errors,
                users=names, clients=clients, methods=PAYMENT_METHODS)  # fmt: skip
