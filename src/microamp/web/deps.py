"""`Annotated` dependencies: the store, a database session, the signed-in user, CSRF, audit.

Pages sign in with the session cookie; the JSON API with a personal token
(``Authorization: Bearer mat_...``). Both read the route's roles from `microamp.web.roles`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microamp.store.access import append_audit, find_api_token
from microamp.store.base import utc_now
from microamp.store.db import Store
from microamp.store.models import User
from microamp.store.staff_sessions import SIGNED_IN, STAGES
from microamp.web.cookies import SESSION_KEY
from microamp.web.identity import security_event, step_path
from microamp.web.lanes import store_for
from microamp.web.roles import PUBLIC, allowed_roles
from microamp.web.security import csrf_matches
from microamp.web.settings import WebSettings

__all__ = [
    "STEP_GUARDS",
    "AnyStageUser",
    "ApiUser",
    "EnrolStepUser",
    "PasswordStepUser",
    "SecondFactorUser",
    "CsrfChecked",
    "DbDep",
    "MAX_ROW_ID",
    "PageUser",
    "RowId",
    "RowIdQuery",
    "SettingsDep",
    "SignInRequired",
    "StepRequired",
    "StoreDep",
    "api_user",
    "audit",
    "page_user",
    "session_user",
    "step_user",
    "web_session",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# last_used_at is a hint for the owner, not a log: write it at most this often per token
_TOKEN_TOUCH_EVERY = timedelta(minutes=1)
# Row ids are 32-bit integer columns on PostgreSQL: a larger number names no row, and would
# overflow the database driver, so it is refused as input with a 422 naming the bound.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


class SignInRequired(Exception):
    """A page needs a signed-in user; the app redirects to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class StepRequired(Exception):
    """A browser part-way through signing in opened another page: send it to its step."""

    def __init__(self, path: str) -> None:
        self.path = path


def get_store(request: Request) -> Store:
    """The app's store; a Stop's is the urgent lane's, a pool of its own (`microamp.web.lanes`)."""
    return store_for(request)


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]


def get_db(store: StoreDep) -> Iterator[Session]:
    """One ORM session per request, closed (rolled back if uncommitted) afterwards."""
    with store.session() as session:
        yield session


DbDep = Annotated[Session, Depends(get_db)]


def web_session(request: Request) -> dict[str, Any]:
    """The signed cookie's contents for this request (see `microamp.web.cookies`)."""
    data: dict[str, Any] = request.scope[SESSION_KEY]
    return data


def _route_roles(request: Request) -> frozenset[str]:
    return allowed_roles(request.method, request.url.path)


def session_user(request: Request, db: Session) -> tuple[User, str] | None:
    """The active user of this request's live session and the session's stage, if any."""
    data = web_session(request)
    user_id = data.get("uid")
    if not isinstance(user_id, int):
        return None
    user = db.get(User, user_id)
    if user is None or not user.active:
        return None
    return user, str(data.get("stage"))


def cookie_user(request: Request, db: Session) -> User | None:
    """The user of this request's session if fully signed in (every step done) and active."""
    found = session_user(request, db)
    if found is None or found[1] != SIGNED_IN:
        return None
    return found[0]


def _check_role(request: Request, db: Session, user: User, roles: frozenset[str]) -> None:
    """403 for a role the route does not allow, the refusal audited (committed before the
    answer, so a refused probe of the routes leaves its trace)."""
    if PUBLIC <= roles:
        return
    if user.role not in roles:
        security_event(db, request, "auth.refused", actor=user,
                       resource=f"{request.method} {request.url.path}"[:200],
                       outcome="refused", role=user.role)  # fmt: skip
        db.commit()
        raise HTTPException(403, f"the {user.role} role may not open this")


def _asked_for(request: Request) -> str:
    """The page a browser asked for, to come back to once signed in (a form post: home)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return target if request.method == "GET" else "/"


def _sign_in_first(request: Request) -> SignInRequired:
    return SignInRequired(_asked_for(request))


def page_user(request: Request, db: DbDep) -> User:
    """The signed-in user of a page, allowed by the route's roles; else sign in (or finish
    signing in), or 403."""
    found = session_user(request, db)
    if found is None:
        raise _sign_in_first(request)
    user, stage = found
    if stage != SIGNED_IN:
        raise StepRequired(step_path(stage, _asked_for(request)))
    _check_role(request, db, user, _route_roles(request))
    return user


def step_user(request: Request, db: Session, stages: frozenset[str]) -> tuple[User, str]:
    """The user of a step page (one of ``stages``, ``signed_in`` or another step) and the
    session's stage; a browser in another stage is sent to its own step."""
    found = session_user(request, db)
    if found is None:
        raise _sign_in_first(request)
    user, stage = found
    if stage not in stages:
        # another step's page is not worth coming back to: the browser goes to its own step
        raise StepRequired(step_path(stage, None))
    _check_role(request, db, user, _route_roles(request))
    return user, stage


def second_factor_user(request: Request, db: DbDep) -> tuple[User, str]:
    """The user owing the second step of a sign-in."""
    return step_user(request, db, frozenset({"second_factor"}))


def password_step_user(request: Request, db: DbDep) -> tuple[User, str]:
    """A signed-in user, or one who must replace a temporary password first."""
    return step_user(request, db, frozenset({"change_password", SIGNED_IN}))


def enrol_step_user(request: Request, db: DbDep) -> tuple[User, str]:
    """A signed-in user, or one who must set up two-factor first."""
    return step_user(request, db, frozenset({"enrol", SIGNED_IN}))


def any_stage_user(request: Request, db: DbDep) -> tuple[User, str]:
    """The user of a session at any stage (signing out is open to all of them)."""
    return step_user(request, db, frozenset(STAGES))


# the dependencies that check the user of a step page, beside page_user and api_user
STEP_GUARDS = (second_factor_user, password_step_user, enrol_step_user, any_stage_user)
StageUser = tuple[User, str]
SecondFactorUser = Annotated[StageUser, Depends(second_factor_user)]
PasswordStepUser = Annotated[StageUser, Depends(password_step_user)]
EnrolStepUser = Annotated[StageUser, Depends(enrol_step_user)]
AnyStageUser = Annotated[StageUser, Depends(any_stage_user)]


# Declares the bearer scheme in the OpenAPI document; a missing token is our own 401 below.
_bearer = HTTPBearer(auto_error=False, description="A personal API token (microamp users token).")


def api_user(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> User:
    """The token's user, allowed by the route's roles; 401 without a valid token, 403 for a
    role that may not."""
    token = credentials.credentials if credentials is not None else ""
    row = find_api_token(db, token.strip()) if token else None
    user = db.get(User, row.user_id) if row else None
    if row is None or user is None or not user.active:
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    _check_role(request, db, user, _route_roles(request))
    now = utc_now()
    if row.last_used_at is None or now - row.last_used_at > _TOKEN_TOUCH_EVERY:
        row.last_used_at = now
        db.commit()
    return user


def _audit_forged_form(request: Request) -> None:
    """A form refused for its CSRF token, audited in a transaction of its own (the request's
    own transaction never starts)."""
    with get_store(request).transaction() as db:
        security_event(db, request, "auth.refused", actor=cookie_user(request, db),
                       resource=f"{request.method} {request.url.path}"[:200],
                       outcome="refused", reason="no valid CSRF token")  # fmt: skip


async def csrf_checked(request: Request) -> None:
    """Refuse an unsafe request without the session's CSRF token (form field or header)."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get("csrf_token")
        given = field if isinstance(field, str) else None
    if not csrf_matches(web_session(request).get("csrf"), given):
        await run_in_threadpool(_audit_forged_form, request)
        raise HTTPException(403, "the form expired or did not come from this site: reload it")


PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]
CsrfChecked = Depends(csrf_checked)


def audit(
    db: Session,
    user: User,
    action: str,
    resource: str,
    *,
    client_id: int | None = None,
    **detail: Any,
) -> None:
    """Append to the audit log and commit, with whatever the request wrote in the same
    transaction: a write of health data and its audit row stand or fall together."""
    append_audit(
        db,
        actor_id=user.id,
        actor=user.email,
        action=action,
        resource=resource,
        client_id=client_id,
        detail=detail,
    )
    db.commit()
