"""The signed-in user's account: personal API tokens (shown once, stored hashed), their own
password, two-factor sign-in, and their sessions ("sign out everywhere").

The password and two-factor pages are also steps of signing in: a temporary password must be
replaced before anything else opens, and where the clinic asks for two-factor a clinical role
without it enrols first (see `microamp.web.identity`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, NotFound
from microamp.store.access import create_api_token, list_api_tokens, revoke_api_token
from microamp.store.models import User
from microamp.store.staff import (
    TwoFactorRequired,
    claim_totp_step,
    confirm_two_factor,
    new_recovery_codes,
    require_two_factor,
    set_password,
    start_two_factor,
    turn_off_two_factor,
)
from microamp.store.staff_sessions import (
    SIGNED_IN,
    end_user_sessions,
    live_sessions,
    set_stage,
)
from microamp.web.deps import (
    CsrfChecked,
    DbDep,
    EnrolStepUser,
    PageUser,
    PasswordStepUser,
    RowId,
    audit,
)
from microamp.web.errors import FieldError, field_errors
from microamp.web.identity import (
    current_session,
    end_current_session,
    safe_next,
    security_event,
    session_rules,
    stage_for,
    step_path,
    wall_now,
)
from microamp.web.render import page
from microamp.web.security import check_password_rules, hash_password, verify_password
from microamp.web.settings import WebSettings
from microamp.web.two_factor import code_step, new_secret, otpauth_uri, qr_svg

router = APIRouter(dependencies=[CsrfChecked])


def _account(request: Request, user: User, db: Session, **extra: Any) -> Response:
    settings: WebSettings = request.app.state.settings
    here = current_session(request, db)
    return page(
        request,
        "account.html",
        user,
        title="Account",
        tokens=list_api_tokens(db, user_id=user.id),
        sessions=live_sessions(
            db, user_id=user.id, rules=session_rules(settings), now=wall_now(request)
        ),  # fmt: skip
        this_session=here.id if here else None,
        **extra,
    )


@router.get("/account")
def account(request: Request, user: PageUser, db: DbDep) -> Response:
    return _account(request, user, db)


@router.post("/account/tokens")
def new_token(
    request: Request, user: PageUser, db: DbDep, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    try:
        row, token = create_api_token(db, user_id=user.id, name=name)
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, {"name": "Name of a new token"}, {"name": "token-name"})
        return _account(request, user, db, errors=errors, typed_name=name, status_code=422)
    security_event(db, request, "auth.token_created", actor=user, resource=f"token:{row.id}",
                   name=row.name, prefix=row.prefix)  # fmt: skip
    db.commit()
    return _account(request, user, db, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, user: PageUser, db: DbDep, token_id: RowId) -> Response:
    row = revoke_api_token(db, user_id=user.id, token_id=token_id)
    if row is None:
        raise NotFound(f"no token {token_id} of yours")
    security_event(db, request, "auth.token_revoked", actor=user, resource=f"token:{row.id}",
                   name=row.name, prefix=row.prefix)  # fmt: skip
    db.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, user: PageUser, db: DbDep) -> Response:
    """End every session of the user, this one too."""
    ended = end_user_sessions(db, user_id=user.id, reason="signed out everywhere",
                              now=wall_now(request))  # fmt: skip
    end_current_session(request, db, "signed out everywhere")
    security_event(db, request, "auth.signout", actor=user, outcome="everywhere", sessions=ended)
    db.commit()
    return RedirectResponse("/signin", status_code=303)


# -- the user's own password -------------------------------------------------------------------


def _password_page(
    request: Request, user: User, stage: str, next_path: str, **extra: Any
) -> Response:
    return page(
        request,
        "account_password.html",
        user if stage == SIGNED_IN else None,
        title="Change your password",
        forced=stage != SIGNED_IN,
        next_path=safe_next(next_path),
        **extra,
    )


@router.get("/account/password")
def password_form(request: Request, stage_user: PasswordStepUser, next: str = "/") -> Response:
    user, stage = stage_user
    return _password_page(request, user, stage, next)


def _password_problems(user: User, current: str, new: str, again: str) -> list[FieldError]:
    if not verify_password(user.password_hash, current):
        return [FieldError("current", "current-password", "Your current password is not right.")]
    problem = check_password_rules(new)
    if problem:
        return [FieldError("new", "new-password", f"The new password {problem}.")]
    if new != again:
        return [FieldError("again", "again-password", "The two new passwords are not the same.")]
    if verify_password(user.password_hash, new):
        return [FieldError("new", "new-password", "Choose a password you have not used here.")]
    return []


@router.post("/account/password")
def password_change(
    request: Request,
    db: DbDep,
    stage_user: PasswordStepUser,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    again: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    user, stage = stage_user
    errors = _password_problems(user, current, new, again)
    if errors:
        return _password_page(request, user, stage, next, errors=errors, status_code=422)
    here = current_session(request, db)
    set_password(db, user=user, password_hash=hash_password(new), now=wall_now(request),
                 keep_session=here.id if here else None)  # fmt: skip
    security_event(db, request, "auth.password_changed", actor=user)
    next_stage = stage_for(user, two_factor_required=require_two_factor(db),
                           second_factor_done=True)  # fmt: skip
    if here is not None:
        set_stage(db, here, next_stage)
        request.scope["microamp.session"]["stage"] = next_stage
    db.commit()
    if stage == SIGNED_IN:
        return RedirectResponse("/account?changed=password", status_code=303)
    return RedirectResponse(step_path(next_stage, next), status_code=303)


# -- two-factor --------------------------------------------------------------------------------


def _enrol_page(request: Request, user: User, stage: str, next_path: str, **extra: Any) -> Response:
    uri = otpauth_uri(user.totp_secret or "", user.email) if user.totp_secret else ""
    return page(
        request,
        "account_two_factor.html",
        user if stage == SIGNED_IN else None,
        title="Two-factor sign-in",
        forced=stage != SIGNED_IN,
        account=user,
        secret=user.totp_secret if not user.two_factor else "",
        uri=uri if not user.two_factor else "",
        qr=qr_svg(uri, title="QR code of the setup key") if uri and not user.two_factor else "",
        next_path=safe_next(next_path),
        **extra,
    )


@router.get("/account/two-factor")
def two_factor_form(
    request: Request, db: DbDep, stage_user: EnrolStepUser, next: str = "/"
) -> Response:
    user, stage = stage_user
    if not user.two_factor and not user.totp_secret:
        # the secret is made once and kept pending until a code confirms it: reloading the page
        # shows the same one, so a phone that scanned it still matches
        start_two_factor(db, user=user, secret=new_secret())
        db.commit()
    return _enrol_page(request, user, stage, next)


@router.post("/account/two-factor")
def two_factor_confirm(
    request: Request,
    db: DbDep,
    stage_user: EnrolStepUser,
    code: Annotated[str, Form(max_length=40)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    user, stage = stage_user
    if user.two_factor:
        return RedirectResponse("/account", status_code=303)
    now = wall_now(request)
    step = code_step(user.totp_secret or "", code, now) if user.totp_secret else None
    if step is None:
        security_event(db, request, "auth.2fa_failed", actor=user, outcome="enrolment code")
        db.commit()
        errors = [FieldError("code", "code", "That code is not right: enter the six digits the app shows now.")]  # fmt: skip
        return _enrol_page(request, user, stage, next, errors=errors, status_code=422)
    codes = confirm_two_factor(db, user=user, step=step, now=now)
    security_event(db, request, "auth.2fa_enrolled", actor=user)
    here = current_session(request, db)
    if here is not None and stage != SIGNED_IN:
        set_stage(db, here, SIGNED_IN)
        request.scope["microamp.session"]["stage"] = SIGNED_IN
    db.commit()
    return page(request, "account_recovery_codes.html", user, title="Recovery codes",
                codes=codes, next_path=safe_next(next))  # fmt: skip


# -- the user's own two-factor: off, or new recovery codes ---------------------------------------

_PROOF_MESSAGE = "Enter your password or the code your authenticator app shows now."


def _proof_ok(request: Request, db: Session, user: User, proof: str) -> bool:
    """The user is at the keyboard: their password, or a current code not used before."""
    step = code_step(user.totp_secret or "", proof, wall_now(request))
    if step is not None:
        return claim_totp_step(db, user_id=user.id, step=step)
    return bool(proof) and verify_password(user.password_hash, proof)


@router.post("/account/two-factor/off")
def two_factor_off(
    request: Request,
    user: PageUser,
    db: DbDep,
    off_proof: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if not user.two_factor:
        return RedirectResponse("/account", status_code=303)
    if not _proof_ok(request, db, user, off_proof):
        audit(db, user, "auth.2fa_failed", f"user:{user.id}", outcome="turning off")
        errors = [FieldError("off_proof", "off-proof", _PROOF_MESSAGE)]
        return _account(request, user, db, errors=errors, status_code=422)
    try:
        turn_off_two_factor(db, user=user, now=wall_now(request))
    except TwoFactorRequired as exc:
        db.rollback()
        errors = [FieldError("off_proof", "off-proof", f"Two-factor stays on: {exc}.")]
        return _account(request, user, db, errors=errors, status_code=409)
    audit(db, user, "auth.2fa_turned_off", f"user:{user.id}", outcome="ok")
    return RedirectResponse("/account?changed=two-factor-off", status_code=303)


@router.post("/account/recovery-codes")
def renew_recovery_codes(
    request: Request,
    user: PageUser,
    db: DbDep,
    codes_proof: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not user.two_factor:
        return RedirectResponse("/account/two-factor", status_code=303)
    if not _proof_ok(request, db, user, codes_proof):
        audit(db, user, "auth.2fa_failed", f"user:{user.id}", outcome="new recovery codes")
        errors = [FieldError("codes_proof", "codes-proof", _PROOF_MESSAGE)]
        return _account(request, user, db, errors=errors, status_code=422)
    codes = new_recovery_codes(db, user_id=user.id, now=wall_now(request))
    audit(db, user, "auth.recovery_codes_renewed", f"user:{user.id}", outcome="ok")
    return page(request, "account_recovery_codes.html", user, title="Recovery codes",
                codes=codes, renewed=True, next_path="/account")  # fmt: skip
