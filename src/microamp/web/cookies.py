"""The session cookie as ASGI middleware: read and checked before the app, written after.

Every request gets ``scope["microamp.session"]``, a dict that always holds a CSRF token (an
anonymous visitor gets one too, so the sign-in form is protected like every other). A signed-in
browser's cookie carries only its session's random id (``sid``); the middleware looks the
session up in the store (`resolve`, in a worker thread) and, while it is live, fills the dict
with its user, stage and CSRF token. An ended, idle or unknown session leaves the visitor
anonymous. The cookie is written back only when what it carries changed: HttpOnly,
SameSite=Lax, Secure over https.
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import TimeoutError as PoolExhausted
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microamp.web.lanes import is_urgent
from microamp.web.security import SessionSigner, new_csrf_token

__all__ = ["COOKIE_NAME", "SESSION_KEY", "Resolver", "SessionCookieMiddleware", "cookie_payload"]

_STATIC = "/static/"
# the raw session id of a cookie -> the live session's fields (uid, stage, csrf, ...) or None
Resolver = Callable[[str], dict[str, Any] | None]

COOKIE_NAME = "microamp_session"
SESSION_KEY = "microamp.session"


def _cookie_value(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is the visitor's problem, not ours
                return None
            morsel = jar.get(COOKIE_NAME)
            return morsel.value if morsel else None
    return None


def cookie_payload(data: dict[str, Any]) -> dict[str, Any]:
    """What the cookie carries for a request's session dict: the session id, or the token."""
    if isinstance(data.get("sid"), str):
        return {"sid": data["sid"]}
    return {"csrf": data["csrf"]}


class SessionCookieMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        signer: SessionSigner,
        secure: bool,
        resolve: Resolver,
        resolve_urgent: Resolver | None = None,
    ) -> None:
        self.app = app
        self.signer = signer
        self.secure = secure
        self.resolve = resolve
        # a Stop's session is looked up through the urgent lane (`microamp.web.lanes`)
        self.resolve_urgent = resolve_urgent or resolve

    async def _session(self, loaded: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        raw_id = loaded.get("sid")
        if isinstance(raw_id, str):
            live = await anyio.to_thread.run_sync(resolve, raw_id)
            if live is not None:
                return dict(live, sid=raw_id)
            return {"csrf": new_csrf_token()}
        token = loaded.get("csrf")
        return {"csrf": token if isinstance(token, str) else new_csrf_token()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path", "").startswith(_STATIC):
            # a stylesheet or a script needs no session: no lookup in the store, no cookie
            scope[SESSION_KEY] = {"csrf": new_csrf_token()}
            await self.app(scope, receive, send)
            return
        raw = _cookie_value(scope)
        loaded = self.signer.loads(raw) if raw else None
        before = {k: v for k, v in (loaded or {}).items() if k != "iat"}
        try:
            resolve = self.resolve_urgent if is_urgent(scope) else self.resolve
            scope[SESSION_KEY] = await self._session(before, resolve)
        except PoolExhausted:
            # no connection to look the session up with: answered 503 at once, not a 500
            from microamp.web.errors import busy_response

            await busy_response(scope.get("path", ""))(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                now_carried = cookie_payload(scope[SESSION_KEY])
                if now_carried != before:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", self._header(now_carried).encode("latin-1")))
                    message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _header(self, payload: dict[str, Any]) -> str:
        value = self.signer.dumps(payload)
        parts = [
            f"{COOKIE_NAME}={value}",
            "Path=/",
            f"Max-Age={self.signer.max_age_s}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)
