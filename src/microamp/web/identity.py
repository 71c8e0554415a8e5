"""Who is signed in, how far, and what happens at each step of signing in and out.

The steps after a right password, in order (each one's page opens only in its stage):
``second_factor`` (the user has TOTP) -> ``change_password`` (a temporary password) -> ``enrol``
(the clinic asks clinical roles for two-factor and the user has none) -> ``signed_in``.
`stage_for` says which comes next; every page of the clinic needs ``signed_in``.

Security events (sign-in, sign-out, sessions ended, staff changes, two-factor) go to the audit
log through `security_event`, with the client's address and the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from sqlalchemy.orm import Session

from microamp.store.access import append_audit
from microamp.store.db import Store
from microamp.store.models import User
from microamp.store.staff import POLICY_ROLES
from microamp.store.staff_sessions import (
    SIGNED_IN,
    SessionRules,
    StaffSession,
    end_session,
    look_up_session,
    start_session,
)
from microamp.store.throttle import ThrottleRule
from microamp.web.addresses import client_address, parse_networks
from microamp.web.cookies import SESSION_KEY
from microamp.web.security import new_csrf_token
from microamp.web.settings import WebSettings

__all__ = [
    "STEP_PATHS",
    "SessionBook",
    "WallClock",
    "account_rule",
    "address_rule",
    "begin_session",
    "current_session",
    "end_current_session",
    "request_address",
    "safe_next",
    "security_event",
    "session_rules",
    "stage_for",
    "step_path",
    "wall_now",
]

WallClock = Callable[[], datetime]
# where a browser part-way through signing in is sent
STEP_PATHS = {
    "second_factor": "/signin/code",
    "change_password": "/account/password",
    "enrol": "/account/two-factor",
    SIGNED_IN: "/",
}


# a path of this site: one slash, then printable ASCII only (no space, tab or newline, which
# browsers drop from a URL, so "/<tab>/evil.example" would become "//evil.example")
_SAME_SITE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]{0,2000}")


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/``: never another host (``//evil``,
    ``/\\evil``), a scheme (``javascript:``) or a character a browser would drop or reinterpret,
    so the page a sign-in returns to cannot be an open redirect."""
    if not target or not _SAME_SITE_PATH.fullmatch(target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def step_path(stage: str, next_path: str | None) -> str:
    """Where a browser at ``stage`` goes: its step's page, carrying the page it asked for (or
    that page itself once signed in)."""
    target = safe_next(next_path)
    if stage == SIGNED_IN:
        return target
    path = STEP_PATHS.get(stage, "/signin")
    return path if target == "/" else f"{path}?{urlencode({'next': target}, safe='/')}"


def session_rules(settings: WebSettings) -> SessionRules:
    return SessionRules(idle_s=settings.session_idle_s, lifetime_s=settings.session_max_age_s)


def _rule(settings: WebSettings, free: int) -> ThrottleRule:
    return ThrottleRule(
        free=free,
        window_s=settings.signin_window_s,
        base_s=settings.signin_delay_base_s,
        cap_s=settings.signin_delay_cap_s,
    )


def account_rule(settings: WebSettings) -> ThrottleRule:
    """Tries per account (and per account's second step)."""
    return _rule(settings, settings.signin_max_failures_per_user)


def address_rule(settings: WebSettings) -> ThrottleRule:
    """Tries per client address."""
    return _rule(settings, settings.signin_max_failures_per_ip)


class SessionBook:
    """Looks a cookie's session id up in the store for the cookie middleware."""

    def __init__(self, store: Store, rules: SessionRules, clock: WallClock) -> None:
        self.store = store
        self.rules = rules
        self.clock = clock

    def resolve(self, raw_id: str) -> dict[str, Any] | None:
        """The live session's fields, or None (an idle or expired one is ended on the way,
        and that is a security event)."""
        with self.store.session() as db:
            row, ended = look_up_session(db, raw_id, rules=self.rules, now=self.clock())
            if row is not None and ended is not None:
                _session_ended(db, row, ended)
            db.commit()
            if row is None or ended is not None:
                return None
            return {"uid": row.user_id, "stage": row.stage, "csrf": row.csrf, "row": row.id}


def _session_ended(db: Session, row: StaffSession, reason: str) -> None:
    user = db.get(User, row.user_id)
    append_audit(
        db,
        actor_id=row.user_id,
        actor=user.email if user else f"user:{row.user_id}",
        action="auth.session_ended",
        resource=f"user:{row.user_id}",
        detail={"address": row.address, "outcome": reason},
    )


def wall_now(request: Request) -> datetime:
    """Now, from the app's clock (tests pass one in)."""
    clock: WallClock = request.app.state.wall_clock
    return clock()


def request_address(request: Request) -> str:
    """The client's address (X-Forwarded-For believed only from a trusted proxy)."""
    settings: WebSettings = request.app.state.settings
    peer = request.client.host if request.client else "unknown"
    trusted = parse_networks(settings.trusted_proxies)
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)


def stage_for(user: User, *, two_factor_required: bool, second_factor_done: bool) -> str:
    """The next stage of a sign-in whose password was right."""
    if user.two_factor and not second_factor_done:
        return "second_factor"
    if user.must_change_password:
        return "change_password"
    if two_factor_required and user.role in POLICY_ROLES and not user.two_factor:
        return "enrol"
    return SIGNED_IN


def begin_session(request: Request, db: Session, user: User, stage: str) -> StaffSession:
    """A new session for ``user`` in ``stage``; this response's cookie carries its id."""
    settings: WebSettings = request.app.state.settings
    row, raw_id = start_session(
        db,
        user_id=user.id,
        stage=stage,
        address=request_address(request),
        rules=session_rules(settings),
        now=wall_now(request),
    )
    request.scope[SESSION_KEY] = {
        "sid": raw_id,
        "uid": user.id,
        "stage": stage,
        "csrf": row.csrf,
        "row": row.id,
    }
    return row


def current_session(request: Request, db: Session) -> StaffSession | None:
    """This request's session row, if it has one."""
    row_id = request.scope[SESSION_KEY].get("row")
    return db.get(StaffSession, row_id) if isinstance(row_id, int) else None


def end_current_session(request: Request, db: Session, reason: str) -> None:
    """End this request's session (if any); the response makes the visitor anonymous."""
    row = current_session(request, db)
    if row is not None:
        end_session(db, row, reason=reason, now=wall_now(request))
    request.scope[SESSION_KEY] = {"csrf": new_csrf_token()}


def security_event(
    db: Session,
    request: Request,
    action: str,
    *,
    actor: User | None,
    actor_name: str = "",
    resource: str = "",
    outcome: str = "ok",
    **detail: Any,
) -> None:
    """Append a security event to the audit log (the caller commits)."""
    append_audit(
        db,
        actor_id=actor.id if actor else None,
        actor=actor.email if actor else (actor_name or "anonymous"),
        action=action,
        resource=resource or (f"user:{actor.id}" if actor else "signin"),
        detail={"address": request_address(request), "outcome": outcome, **detail},
    )
