"""The owner's Staff page: everyone who signs in, their role and sessions; add a user (with a
temporary password shown once), change a role, disable or enable, reset a password, end a
user's sessions, and the clinic's two-factor policy. Every change is a security event in the
audit log; the last active owner cannot be disabled or demoted (409)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, NotFound
from microamp.store.models import ROLES, User
from microamp.store.staff import (
    LastOwner,
    add_staff,
    list_staff,
    remove_two_factor,
    require_two_factor,
    reset_password,
    set_active,
    set_role,
    set_two_factor_policy,
)
from microamp.store.staff_sessions import end_user_sessions, live_sessions
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, RowIdQuery
from microamp.web.errors import FieldError, field_errors
from microamp.web.identity import security_event, session_rules, wall_now
from microamp.web.render import page
from microamp.web.security import hash_password, temporary_password
from microamp.web.settings import WebSettings

router = APIRouter(dependencies=[CsrfChecked])

_LABELS = {"email": "Email", "display_name": "Name", "role": "Role"}
_TARGETS = {"email": "new-email", "display_name": "new-name", "role": "new-role"}


def _rows(request: Request, db: Session) -> list[dict[str, Any]]:
    settings: WebSettings = request.app.state.settings
    now = wall_now(request)
    rules = session_rules(settings)
    rows = []
    for user in list_staff(db):
        sessions = live_sessions(db, user_id=user.id, rules=rules, now=now)
        last_seen: datetime | None = max((s.last_seen_at for s in sessions), default=None)
        rows.append({"user": user, "sessions": len(sessions), "last_seen": last_seen})
    return rows


def _staff(request: Request, owner: User, db: Session, **extra: Any) -> Response:
    return page(
        request,
        "staff.html",
        owner,
        title="Staff",
        rows=_rows(request, db),
        roles=ROLES,
        two_factor_required=require_two_factor(db),
        **extra,
    )


# what the page says after a change: built here from a fixed word and the user's row, never
# from text in the address, so a link cannot make the page say anything else
_DONE = {
    "role": "{email} is now {role}.",
    "disabled": "{email} is disabled and signed out everywhere.",
    "enabled": "{email} can sign in again.",
    "ended": "Every session of {email} has ended.",
    "removed": "Two-factor sign-in is removed for {email}: they set it up again at sign-in.",
    "required": "Two-factor sign-in is now required for the owner and practitioner roles.",
    "optional": "Two-factor sign-in is no longer required.",
}


def _done_message(db: Session, done: str, user_id: int | None) -> str:
    template = _DONE.get(done)
    if template is None:
        return ""
    user = db.get(User, user_id) if user_id else None
    if "{email}" in template and user is None:
        return ""
    return template.format(email=user.email if user else "", role=user.role if user else "")


def _back(done: str, user_id: int | None = None) -> RedirectResponse:
    query = f"done={done}" + (f"&user={user_id}" if user_id else "")
    return RedirectResponse(f"/staff?{query}", status_code=303)


@router.get("/staff")
def staff(
    request: Request, owner: PageUser, db: DbDep, done: str = "", user: RowIdQuery = None
) -> Response:
    return _staff(request, owner, db, done=_done_message(db, done, user))


@router.post("/staff")
def add_staff_form(
    request: Request,
    owner: PageUser,
    db: DbDep,
    email: Annotated[str, Form(max_length=254)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "practitioner",
) -> Response:
    password = temporary_password()
    try:
        user = add_staff(db, email=email, display_name=display_name, role=role,
                         password_hash=hash_password(password))  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, _LABELS, _TARGETS)
        typed = {"email": email, "display_name": display_name, "role": role}
        return _staff(request, owner, db, errors=errors, typed=typed, status_code=422)
    security_event(db, request, "staff.add", actor=owner, resource=f"user:{user.id}",
                   role=role)  # fmt: skip
    db.commit()
    return _staff(request, owner, db, handed_over={"email": user.email, "password": password})


@router.post("/staff/{user_id}/role")
def change_role(
    request: Request,
    owner: PageUser,
    db: DbDep,
    user_id: RowId,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        user = set_role(db, user_id=user_id, role=role)
    except (InvalidValue, LastOwner) as exc:
        db.rollback()
        # the message sits by that user's role, on the row the owner changed
        control = f"role-{user_id}"
        rule = exc.rule if isinstance(exc, InvalidValue) else str(exc)
        errors = [FieldError(control, control, f"Role: {rule}")]
        status = 422 if isinstance(exc, InvalidValue) else 409
        return _staff(request, owner, db, role_errors=errors, status_code=status)
    security_event(db, request, "staff.role", actor=owner, resource=f"user:{user.id}", role=role)
    db.commit()
    return _back("role", user.id)


@router.post("/staff/{user_id}/active")
def change_active(
    request: Request,
    owner: PageUser,
    db: DbDep,
    user_id: RowId,
    active: Annotated[bool, Form()] = False,
) -> Response:
    user = set_active(db, user_id=user_id, active=active, now=wall_now(request))
    action = "staff.enable" if active else "staff.disable"
    security_event(db, request, action, actor=owner, resource=f"user:{user.id}")
    db.commit()
    return _back("enabled" if active else "disabled", user.id)


@router.post("/staff/{user_id}/reset-password")
def reset(request: Request, owner: PageUser, db: DbDep, user_id: RowId) -> Response:
    password = temporary_password()
    user = reset_password(db, user_id=user_id, password_hash=hash_password(password),
                          now=wall_now(request))  # fmt: skip
    security_event(db, request, "staff.password_reset", actor=owner, resource=f"user:{user.id}")
    db.commit()
    return _staff(request, owner, db, handed_over={"email": user.email, "password": password})


@router.post("/staff/{user_id}/end-sessions")
def end_sessions(request: Request, owner: PageUser, db: DbDep, user_id: RowId) -> Response:
    target = db.get(User, user_id)
    if target is None:
        raise NotFound(f"no user {user_id}")
    ended = end_user_sessions(db, user_id=user_id, reason="ended by an owner",
                              now=wall_now(request))  # fmt: skip
    security_event(db, request, "staff.sessions_ended", actor=owner, resource=f"user:{user_id}",
                   sessions=ended)  # fmt: skip
    db.commit()
    return _back("ended", user_id)


@router.post("/staff/{user_id}/remove-two-factor")
def remove_factor(request: Request, owner: PageUser, db: DbDep, user_id: RowId) -> Response:
    user = remove_two_factor(db, user_id=user_id, now=wall_now(request))
    security_event(db, request, "staff.2fa_removed", actor=owner, resource=f"user:{user.id}")
    db.commit()
    return _back("removed", user.id)


@router.post("/staff/two-factor-policy")
def two_factor_policy(
    request: Request,
    owner: PageUser,
    db: DbDep,
    required: Annotated[bool, Form()] = False,
) -> Response:
    set_two_factor_policy(db, required=required, by=owner.email, now=wall_now(request))
    security_event(db, request, "staff.2fa_policy", actor=owner, resource="clinic",
                   required=required)  # fmt: skip
    db.commit()
    return _back("required" if required else "optional")
