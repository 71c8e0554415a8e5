"""Erasing a client from the clinic web app, the owner's alone: a confirmation page that names
what goes and what stays and asks for her name typed out; under a retention hold it says the
rule and the day it lifts, and offers no erase button. Then a page that says it is done.

The erasure is the store's (`microamp.store.erasure`): the same as `microamp clients erase`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, NotFound
from microamp.store.erasure import (
    ERASED_COUNTS,
    erase_client,
    erased_entry,
    erasure_plan,
    remove_files,
)
from microamp.store.models import User
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import FieldError, field_errors
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

_LABELS = {"confirm_name": "Her name"}


def same_name(typed: str, full_name: str) -> bool:
    """The name typed to confirm is hers, whatever its case and spacing."""
    return " ".join(typed.split()).casefold() == " ".join(full_name.split()).casefold()


def _erase_page(
    request: Request,
    owner: User,
    db: Session,
    client_id: int,
    *,
    errors: list[FieldError] | None = None,
    typed: str = "",
    status_code: int = 200,
) -> Response:
    plan = erasure_plan(db, client_id=client_id, today=date.today())
    # the plan tells of her treatment records: a read of her record
    audit(db, owner, "read", f"client:{client_id}", client_id=client_id, view="erasure plan")
    return page(request, "client_erase.html", owner, title=f"Erase {plan.full_name}",
                plan=plan, errors=errors or [], typed=typed, status_code=status_code)  # fmt: skip


@router.get("/clients/{client_id}/erase")
def erase_page(request: Request, owner: PageUser, db: DbDep, client_id: RowId) -> Response:
    return _erase_page(request, owner, db, client_id)


@router.post("/clients/{client_id}/erase")
def erase(
    request: Request,
    owner: PageUser,
    db: DbDep,
    client_id: RowId,
    confirm_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Erase her once her name is typed; a retention hold refuses it (409, the rule named)
    whatever was typed, since no confirmation lifts a hold."""
    plan = erasure_plan(db, client_id=client_id, today=date.today())
    if not plan.held and not same_name(confirm_name, plan.full_name):
        wrong = InvalidValue("confirm_name", confirm_name,
                             f"type {plan.full_name} to erase her record")  # fmt: skip
        return _erase_page(request, owner, db, client_id, errors=field_errors(wrong, _LABELS),
                           typed=confirm_name, status_code=422)  # fmt: skip
    _, files = erase_client(db, client_id=client_id, actor_id=owner.id, actor=owner.email,
                            today=date.today())  # fmt: skip
    db.commit()
    remove_files(files)
    return RedirectResponse(f"/clients/{client_id}/erased", status_code=303)


@router.get("/clients/{client_id}/erased")
def erased_page(request: Request, owner: PageUser, db: DbDep, client_id: RowId) -> Response:
    entry = erased_entry(db, client_id=client_id)
    if entry is None:
        raise NotFound(f"client {client_id} was not erased")
    counts: dict[str, Any] = {k: entry.detail[k] for k in ERASED_COUNTS if k in entry.detail}
    return page(request, "client_erased.html", owner, title="Client erased",
                client_id=client_id, erased_at=entry.at, by=entry.actor, counts=counts)  # fmt: skip
