"""The web app manifest and the service worker, served from the app's root so that the worker's
scope is the whole app (a worker under /static/ could only control /static/)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.responses import Response

__all__ = ["SHELL", "manifest", "service_worker"]

STATIC_DIR = Path(__file__).parent.parent / "static"
# what the worker caches on install: enough for guide mode with no network at all
SHELL = (
    "/",
    "/static/home.css",
    "/static/home.js",
    "/static/home-photos.js",
    "/static/capture.js",
    "/static/favicon.svg",
    "/manifest.webmanifest",
)
MANIFEST = {
    "name": "microamp home",
    "short_name": "microamp",
    "description": "Your microcurrent routine, timed and cued, with your regimen.",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "orientation": "portrait",
    "background_color": "#ffffff",
    "theme_color": "#1d4ed8",
    "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
}


def manifest() -> Response:
    return Response(json.dumps(MANIFEST), media_type="application/manifest+json")


def service_worker() -> Response:
    """The worker's script with the shell to cache written in; never cached by HTTP itself, so
    a new version is picked up on the next visit."""
    text = (STATIC_DIR / "home-sw.js").read_text(encoding="utf-8")
    text = text.replace("/*SHELL*/[]", json.dumps(list(SHELL)))
    return Response(
        text,
        media_type="text/javascript",
        headers={"Cache-Control": "no-store", "Service-Worker-Allowed": "/"},
    )
