"""The API docs page, Swagger UI served from the installed package, not from a CDN.

The assets come from the ``swagger-ui-bundle-v2`` package (the ``swagger_ui_bundle`` module),
mounted under ``/static/swagger-ui/``: the page works offline and loads nothing from elsewhere.
FastAPI's page starts Swagger UI with one inline script; its text is fixed for this app, so the
page's Content-Security-Policy allows that block by its SHA-256 (`DocsPage.script_hash`) and
nothing else inline, on that page alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.openapi.docs import get_swagger_ui_html
from swagger_ui_bundle import swagger_ui_path

from microamp.web.headers import STATIC_PREFIX, sha256_source

__all__ = ["SWAGGER_ASSETS_DIR", "SWAGGER_ASSETS_URL", "DocsPage", "docs_page"]

SWAGGER_ASSETS_DIR = Path(str(swagger_ui_path))
SWAGGER_ASSETS_URL = f"{STATIC_PREFIX}swagger-ui"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DocsPage:
    html: str
    script_hash: str  # the CSP source of the page's one inline script


def docs_page(*, openapi_url: str, title: str) -> DocsPage:
    """The docs page's HTML and the hash of its inline start-up script."""
    response = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{SWAGGER_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PREFIX}favicon.svg",
        oauth2_redirect_url=None,
        # the validator badge would ask an outside server to fetch our document
        swagger_ui_parameters={"validatorUrl": None},
    )
    # FastAPI's page names no language: say it, for screen readers (axe: html-has-lang)
    html = bytes(response.body).decode("utf-8").replace("<html>", '<html lang="en">', 1)
    scripts = _INLINE_SCRIPT.findall(html)
    if len(scripts) != 1:  # FastAPI changed its page: refuse to guess what to allow
        raise RuntimeError(f"the Swagger UI page has {len(scripts)} inline scripts, expected 1")
    return DocsPage(html=html, script_hash=sha256_source(scripts[0]))
