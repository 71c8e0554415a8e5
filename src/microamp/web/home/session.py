"""The household's sign-in state (in the signed cookie), CSRF checks and the page renderer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from microamp.store.home import home_account
from microamp.store.home_models import HomeAccount
from microamp.web.lanes import store_for
from microamp.web.security import csrf_matches

__all__ = ["AccountDep", "DbDep", "csrf_ok", "home_page", "sign_in_as", "sign_out", "today_of"]


class NeedsSignIn(Exception):
    """No account signed in on this phone: the page redirects to the first run or sign-in."""


def _db(request: Request) -> Iterator[Session]:
    with store_for(request).transaction() as session:
        yield session


DbDep = Annotated[Session, Depends(_db)]


def _account(request: Request, db: DbDep) -> HomeAccount:
    account = home_account(db)
    if account is None or request.state.home.get("account") != account.id:
        raise NeedsSignIn()
    return account


AccountDep = Annotated[HomeAccount, Depends(_account)]


def today_of(request: Request) -> date:
    day: date = request.app.state.today()
    return day


def csrf_ok(request: Request, given: str | None) -> None:
    """403 unless ``given`` is this phone's CSRF token."""
    if not csrf_matches(request.state.home.get("csrf"), given):
        raise HTTPException(403, "This form has expired: reload the page and try again.")


def sign_in_as(request: Request, account: HomeAccount) -> None:
    request.state.home["account"] = account.id


def sign_out(request: Request) -> None:
    request.state.home.pop("account", None)


def home_page(
    request: Request,
    name: str,
    account: HomeAccount | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    context.update(account=account, csrf_token=request.state.home["csrf"])
    context.setdefault("errors", [])
    context.setdefault("values", {})
    return templates.TemplateResponse(request, f"home/{name}", context, status_code=status_code)
