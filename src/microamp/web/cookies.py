"""The session cookie as ASGI middleware: read and checked before the app, written after.

Every request gets ``scope["microamp.session"]``, a dict that always holds a CSRF token (an
anonymous visitor gets one too, so the sign-in form is protected like every other). The cookie
is written back only when the dict changed: HttpOnly, SameSite=Lax, Secure over https.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microamp.web.security import SessionSigner, new_csrf_token

__all__ = ["COOKIE_NAME", "SESSION_KEY", "SessionCookieMiddleware"]

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


class SessionCookieMiddleware:
    def __init__(self, app: ASGIApp, *, signer: SessionSigner, secure: bool) -> None:
        self.app = app
        self.signer = signer
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _cookie_value(scope)
        loaded = self.signer.loads(raw) if raw else None
        data: dict[str, Any] = dict(loaded or {})
        before = json.dumps(data, sort_keys=True)
        data.setdefault("csrf", new_csrf_token())
        scope[SESSION_KEY] = data

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current: dict[str, Any] = scope[SESSION_KEY]
                if json.dumps(current, sort_keys=True) != before or loaded is None:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", self._header(current).encode("latin-1")))
                    message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _header(self, data: dict[str, Any]) -> str:
        payload = {k: v for k, v in data.items() if k != "iat"}
        value = self.signer.dumps(payload, now=data.get("iat"))
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
