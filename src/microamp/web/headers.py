"""Security headers on every response, set by one ASGI middleware around the whole app.

- ``Content-Security-Policy``: scripts and styles from the app's own origin only. No inline
  script anywhere (``script-src 'self'``); a page that ever needs an inline block names it by
  its SHA-256 (`HeaderPolicy.page_script_hashes`), and none does today. Styles are ``'self'`` plus the hash of
  the face map's own ``<style>`` rules, which travel inside its SVG so that the same drawing
  works as a file from the CLI. Images may also be ``data:`` URIs.
  ``frame-ancestors 'none'``, ``form-action 'self'``, ``base-uri 'none'``, no plugins.
- ``X-Frame-Options: DENY`` (browsers that predate frame-ancestors), ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: same-origin``, ``Cross-Origin-Opener-Policy: same-origin``, and
  a ``Permissions-Policy`` that turns off what the app never asks a browser for (the camera
  is allowed on the one page that takes progress photos: the clinic's capture page, the home
  app's progress photo).
- ``Strict-Transport-Security`` only when the app is served over HTTPS (``MICROAMP_HTTPS``):
  over plain HTTP the header is ignored by browsers, and sent by mistake it would lock a
  clinic's name to HTTPS for a year.
- ``Cache-Control: no-store`` on everything but the files under ``/static/``: pages and API
  answers carry health data or a CSRF token, and the public sign-in page is no exception (its
  token is per visitor). Static files are the same for everybody and may be cached.

Set here, not by each route, so that an error page, a 413 from the body limit and a 500 carry
them too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CLINIC_CAMERA_PAGE",
    "STATIC_PREFIX",
    "HeaderPolicy",
    "SecurityHeadersMiddleware",
    "content_security_policy",
    "sha256_source",
]

STATIC_PREFIX = "/static/"
NO_STORE = "no-store"
# a route's own value is kept where it is already the strictest there is (the setup page's
# link is a secret: no Referer at all)
_STRICTER = {"Cache-Control": NO_STORE, "Referrer-Policy": "no-referrer"}
HSTS_MAX_AGE_S = 365 * 86_400


def sha256_source(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style block."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(
    *, script_hashes: tuple[str, ...] = (), style_hashes: tuple[str, ...] = ()
) -> str:
    """The policy, with ``script_hashes`` / ``style_hashes`` (`sha256_source`) allowed inline."""
    directives = {
        "default-src": ("'none'",),
        "script-src": ("'self'", *script_hashes),
        "style-src": ("'self'", *style_hashes),
        "img-src": ("'self'", "data:"),
        "font-src": ("'self'",),
        "connect-src": ("'self'",),
        "manifest-src": ("'self'",),
        "form-action": ("'self'",),
        "frame-ancestors": ("'none'",),
        "base-uri": ("'none'",),
        "object-src": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


# the clinic's one page that asks for the camera: standardised capture of a progress photo
CLINIC_CAMERA_PAGE = re.compile(r"/clients/\d+/capture")


def permissions_policy(path: str, camera_page: re.Pattern[str] = CLINIC_CAMERA_PAGE) -> str:
    """Everything the app never asks a browser for turned off; the camera allowed to this
    origin on the capture page alone (the paths ``camera_page`` matches in full)."""
    camera = "(self)" if camera_page.fullmatch(path) else "()"
    return f"camera={camera}, microphone=(), geolocation=(), payment=(), usb=()"


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """What the middleware sets: ``https`` adds HSTS; ``page_script_hashes`` maps a path to the
    inline scripts allowed on that page alone; ``style_hashes`` are allowed on every page;
    ``camera_page`` matches the paths that may ask for the camera (the capture page)."""

    https: bool = False
    style_hashes: tuple[str, ...] = ()
    page_script_hashes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    camera_page: re.Pattern[str] = CLINIC_CAMERA_PAGE

    def csp_for(self, path: str) -> str:
        return content_security_policy(
            script_hashes=self.page_script_hashes.get(path, ()), style_hashes=self.style_hashes
        )

    def headers_for(self, path: str) -> dict[str, str]:
        headers = {
            "Content-Security-Policy": self.csp_for(path),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": permissions_policy(path, self.camera_page),
        }
        if self.https:
            headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_S}"
        if not path.startswith(STATIC_PREFIX):
            headers["Cache-Control"] = NO_STORE
        return headers


class SecurityHeadersMiddleware:
    """Sets `HeaderPolicy.headers_for` on every HTTP response start; a route's own
    ``Cache-Control`` or ``Referrer-Policy`` is kept when it is already stricter."""

    def __init__(self, app: ASGIApp, *, policy: HeaderPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = self.policy.headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    stricter = _STRICTER.get(name)
                    if stricter is not None and stricter in headers.get(name, ""):
                        continue
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
