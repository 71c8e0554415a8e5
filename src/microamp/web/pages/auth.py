"""Signing in and out, and the second step of a two-factor sign-in.

Every try is charged to the throttle (`microamp.store.throttle`) before the password or code is
checked: per client address, then per account (or per account's second step). A refused try is
answered 429 with when to try again. A right password starts a session in the store at its
first unfinished step (`microamp.web.identity.stage_for`); the session id, and so its CSRF
token, is new, so a token seen before signing in is worthless after.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.models import User
from microamp.store.staff import (
    claim_totp_step,
    find_user,
    require_two_factor,
    use_recovery_code,
)
from microamp.store.staff_sessions import forget_ended_sessions
from microamp.store.throttle import Verdict, charge_try, clear_key, refund_try, throttle_key
from microamp.web.deps import (
    AnyStageUser,
    CsrfChecked,
    DbDep,
    SecondFactorUser,
    cookie_user,
)
from microamp.web.errors import FieldError
from microamp.web.identity import (
    account_rule,
    address_rule,
    begin_session,
    end_current_session,
    request_address,
    safe_next,
    security_event,
    stage_for,
    step_path,
    wall_now,
)
from microamp.web.render import page
from microamp.web.security import verify_password
from microamp.web.settings import WebSettings
from microamp.web.two_factor import code_step

router = APIRouter(dependencies=[CsrfChecked])
# ended sessions stay listed this long (the audit log keeps the events for good)
_KEEP_ENDED = timedelta(days=30)


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"about {round(seconds / 60)} minutes"


@router.get("/healthz")
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


@router.get("/signin")
def signin_form(request: Request, db: DbDep, next: str = "/") -> Response:
    if cookie_user(request, db) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return page(request, "signin.html", None, title="Sign in", next_path=safe_next(next))


def _charge_signin(request: Request, db: Session, account: str) -> Verdict:
    settings: WebSettings = request.app.state.settings
    now = wall_now(request)
    address = throttle_key("address", request_address(request))
    verdict = charge_try(db, address, rule=address_rule(settings), now=now)
    if not verdict.allowed:
        return verdict
    return charge_try(db, throttle_key("account", account), rule=account_rule(settings), now=now)


def _user_for(db: Session, account: str) -> User | None:
    try:
        return find_user(db, email=account)
    except InvalidValue:
        return None


@router.post("/signin")
def signin(
    request: Request,
    db: DbDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    account = email.strip()
    verdict = _charge_signin(request, db, account)
    if not verdict.allowed:
        security_event(db, request, "auth.signin_failed", actor=None, actor_name=account,
                       outcome="throttled")  # fmt: skip
        db.commit()
        return _throttled(request, "signin.html", verdict, email=account,
                         next_path=safe_next(next))  # fmt: skip
    user = _user_for(db, account)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        outcome = "disabled" if user is not None and ok else "wrong password"
        security_event(db, request, "auth.signin_failed", actor=None, actor_name=account,
                       outcome=outcome)  # fmt: skip
        db.commit()
        return _refused(request, account, next, "That email and password do not match.", 401)
    now = wall_now(request)
    clear_key(db, throttle_key("account", account), now=now)
    refund_try(db, throttle_key("address", request_address(request)),
               rule=address_rule(request.app.state.settings))  # fmt: skip
    stage = stage_for(user, two_factor_required=require_two_factor(db), second_factor_done=False)
    begin_session(request, db, user, stage)
    forget_ended_sessions(db, before=now - _KEEP_ENDED)
    security_event(db, request, "auth.signin", actor=user, outcome=stage)
    db.commit()
    return RedirectResponse(step_path(stage, next), status_code=303)


def _throttled(request: Request, template: str, verdict: Verdict, **context: object) -> Response:
    wait = _wait_words(verdict.retry_after_s)
    response = page(
        request,
        template,
        None,
        status_code=429,
        title="Sign in",
        errors=[
            FieldError(
                _FIRST_FIELD[template],
                _FIRST_FIELD[template],
                f"Too many attempts. Try again in {wait}.",
            )
        ],  # fmt: skip
        **context,
    )
    response.headers["Retry-After"] = str(verdict.retry_after_s)
    return response


_FIRST_FIELD = {"signin.html": "email", "signin_code.html": "code"}


def _refused(request: Request, email: str, next_path: str, error: str, status: int) -> Response:
    return page(
        request,
        "signin.html",
        None,
        status_code=status,
        title="Sign in",
        errors=[FieldError("email", "email", error)],
        email=email,
        next_path=safe_next(next_path),
    )


# -- the second step ---------------------------------------------------------------------------


@router.get("/signin/code")
def code_form(request: Request, _user: SecondFactorUser, next: str = "/") -> Response:
    return page(request, "signin_code.html", None, title="Two-factor sign-in",
                next_path=safe_next(next))  # fmt: skip


def _second_factor_ok(request: Request, db: Session, user: User, code: str) -> str:
    """Which factor the code was ('totp', 'recovery'), or why it was refused."""
    now = wall_now(request)
    step = code_step(user.totp_secret or "", code, now)
    if step is not None:
        return "totp" if claim_totp_step(db, user_id=user.id, step=step) else "code used before"
    if use_recovery_code(db, user_id=user.id, code=code, now=now):
        return "recovery"
    return "wrong code"


@router.post("/signin/code")
def code_submit(
    request: Request,
    db: DbDep,
    stage_user: SecondFactorUser,
    code: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    user, _ = stage_user
    settings: WebSettings = request.app.state.settings
    key = throttle_key("code", str(user.id))
    verdict = charge_try(db, key, rule=account_rule(settings), now=wall_now(request))
    if not verdict.allowed:
        security_event(db, request, "auth.2fa_failed", actor=user, outcome="throttled")
        db.commit()
        return _throttled(request, "signin_code.html", verdict, next_path=safe_next(next))
    factor = _second_factor_ok(request, db, user, code)
    if factor not in ("totp", "recovery"):
        security_event(db, request, "auth.2fa_failed", actor=user, outcome=factor)
        db.commit()
        message = {
            "code used before": "That code has been used already: wait for the next one.",
        }.get(factor, "That code is not right. Check the app's current code and try again.")
        errors = [FieldError("code", "code", message)]
        return page(request, "signin_code.html", None, status_code=401,
                    title="Two-factor sign-in", errors=errors,
                    next_path=safe_next(next))  # fmt: skip
    clear_key(db, key, now=wall_now(request))
    action = "auth.2fa_used" if factor == "totp" else "auth.recovery_used"
    security_event(db, request, action, actor=user, outcome="ok")
    stage = stage_for(user, two_factor_required=require_two_factor(db), second_factor_done=True)
    # a new session id for the stronger sign-in: one seen before this step opens nothing
    end_current_session(request, db, "second factor given")
    begin_session(request, db, user, stage)
    db.commit()
    return RedirectResponse(step_path(stage, next), status_code=303)


@router.post("/signout")
def signout(request: Request, db: DbDep, stage_user: AnyStageUser) -> Response:
    user, _ = stage_user
    end_current_session(request, db, "signed out")
    security_event(db, request, "auth.signout", actor=user)
    db.commit()
    return RedirectResponse("/signin", status_code=303)
