"""Signing in and out. Sign-in is throttled (see `microamp.web.security`) and rotates the
session's CSRF token, so a token seen before signing in is worthless after."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy import func, select

from microamp.store.models import User
from microamp.web.deps import CsrfChecked, DbDep, PageUser, cookie_user, web_session
from microamp.web.errors import FieldError
from microamp.web.render import page
from microamp.web.security import (
    SignInThrottle,
    new_csrf_token,
    password_fingerprint,
    verify_password,
)

router = APIRouter(dependencies=[CsrfChecked])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (``//evil``) or a scheme."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/healthz")
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


@router.get("/signin")
def signin_form(request: Request, db: DbDep, next: str = "/") -> Response:
    if cookie_user(request, db) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return page(request, "signin.html", None, title="Sign in", next_path=_safe_next(next))


@router.post("/signin")
def signin(
    request: Request,
    db: DbDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    throttle: SignInThrottle = request.app.state.throttle
    address = request.client.host if request.client else "unknown"
    account = email.strip()
    decision = throttle.check(account, address)
    if not decision.allowed:
        minutes = max(1, round(decision.retry_after_s / 60))
        return _refused(
            request, account, next, f"Too many attempts. Try again in about {minutes} min.", 429
        )
    user = db.scalar(select(User).where(func.lower(User.email) == account.lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        throttle.failed(account, address)
        return _refused(request, account, next, "That email and password do not match.", 401)
    throttle.succeeded(account)
    session = web_session(request)
    session.clear()
    session.update(uid=user.id, pw=password_fingerprint(user.password_hash), csrf=new_csrf_token())
    return RedirectResponse(_safe_next(next), status_code=303)


def _refused(request: Request, email: str, next_path: str, error: str, status: int) -> Response:
    return page(
        request,
        "signin.html",
        None,
        status_code=status,
        title="Sign in",
        errors=[FieldError("email", "email", error)],
        email=email,
        next_path=_safe_next(next_path),
    )


@router.post("/signout")
def signout(request: Request, _user: PageUser) -> Response:
    session = web_session(request)
    session.clear()
    session["csrf"] = new_csrf_token()
    return RedirectResponse("/signin", status_code=303)
