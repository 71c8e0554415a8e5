"""The household's sign-in state (in the signed cookie), CSRF checks and the page renderer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.home import home_account
from microamp.store.home_models import HomeAccount
from microamp.web.lanes import store_for
from microamp.web.security import csrf_matches

__all__ = [
    "PHONE_DAYS_BACK",
    "AccountDep",
    "DbDep",
    "csrf_ok",
    "home_page",
    "recent_day",
    "sign_in_as",
    "sign_out",
    "today_of",
]

# how far back the phone may date what it kept while offline (a session log, a photo): a queue
# older than this is a phone left in a drawer, and its dates are no longer worth trusting
PHONE_DAYS_BACK = 30


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


def recent_day(raw: object, today: date, field: str) -> date:
    """A day the phone reports for something it kept offline: ``YYYY-MM-DD`` within the
    `PHONE_DAYS_BACK` days up to ``today`` (never ahead: dates are facts about the past)."""
    try:
        day = date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidValue(field, raw, "a date as YYYY-MM-DD") from None
    if not today - timedelta(days=PHONE_DAYS_BACK) <= day <= today:
        raise InvalidValue(
            field, raw, f"within the {PHONE_DAYS_BACK} days up to {today.isoformat()}"
        )
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
    # the day the page is served for, and when (epoch ms): a photo the phone keeps offline is
    # dated from them by the days its own clock has moved on since (home-photos.js)
    context.update(account=account, csrf_token=request.state.home["csrf"],
                   page_day=today_of(request).isoformat(), served_ms=int(time.time() * 1000))  # fmt: skip
    context.setdefault("errors", [])
    context.setdefault("values", {})
    return templates.TemplateResponse(request, f"home/{name}", context, status_code=status_code)
