"""`create_home_app`: the home companion, a phone-first web app for one household.

Same store, limits and records as the clinic app: the household's person is a client of the
store, her home sessions are rows the clinic side reads. One account per home app, created on
the first run. The pages work offline after their first load: a service worker served from the
app's root (`/sw.js`, scope ``/``) keeps the shell, the guide pages and their scripts, and the
guide page queues its session log on the phone until the app is back online.

The day comes from ``today`` (tests pass one they move), never from the clock on the wall.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from microamp.station import StoreSessions
from microamp.store.base import utc_now
from microamp.store.daily_time import client_day
from microamp.store.db import Store
from microamp.viz.facemap import MAP_STYLE_RULES
from microamp.web.headers import HeaderPolicy, SecurityHeadersMiddleware, sha256_source
from microamp.web.home import pages, photos
from microamp.web.lanes import PageAdmission, UrgentLane
from microamp.web.render import make_templates
from microamp.web.security import SessionSigner, new_csrf_token
from microamp.web.settings import WebSettings, shared_secret_key

__all__ = ["COOKIE", "create_home_app"]

STATIC_DIR = Path(__file__).parent.parent / "static"
COOKIE = "microamp_home"
# a household's phone stays signed in for a month: it is her own device
COOKIE_MAX_AGE_S = 30 * 86_400


def _household_today(store: Store) -> Callable[[], date]:
    """Today in the household's (the clinic's) time zone, the day her time limit counts in."""

    def today() -> date:
        with store.session() as db:
            return client_day(db, now=utc_now())

    return today


class HomeApp(FastAPI):
    """The FastAPI app with the security headers outside everything else."""

    header_policy = HeaderPolicy()

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(
            super().build_middleware_stack(), policy=self.header_policy
        )


def create_home_app(
    settings: WebSettings | None = None,
    *,
    store: Store | None = None,
    today: Callable[[], date] | None = None,
    device: bool = False,
) -> FastAPI:
    """The home app. ``store`` may be passed in (tests, the bench); else it is opened from
    ``settings`` (migrated to the newest revision) and closed at shutdown. With ``device`` it
    runs the station of ``settings.device_url`` in this process, as `microamp serve` does, and
    device mode starts her routines on it (`microamp.web.home.device`)."""
    from microamp.web.app import open_web_store, station_in_process

    settings = settings or WebSettings()
    owned = store is None
    store = store or open_web_store(settings)
    today = today or _household_today(store)
    station = station_in_process(store, settings) if device else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if station is not None:
            # a device that does not answer now must not keep her pages down
            station.start(check_device=False)
        try:
            yield
        finally:
            if station is not None:
                station.stop()
                station.store.close()
            if urgent is not None:
                urgent.close()
            if owned:
                store.close()

    app = HomeApp(title="microamp home", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)  # fmt: skip
    app.state.settings = settings
    app.state.store = store
    app.state.today = today
    live = None if station is None else StoreSessions(store, ring=station.ring)
    # her Stop never waits behind her other pages for a connection (`microamp.web.lanes`)
    urgent = None if live is None else UrgentLane(store, live)
    app.state.live = live
    app.state.urgent = urgent
    app.state.templates = make_templates()
    signer = SessionSigner(shared_secret_key(settings, store), max_age_s=COOKIE_MAX_AGE_S)
    app.header_policy = HeaderPolicy(
        https=settings.https, style_hashes=(sha256_source(MAP_STYLE_RULES),),
        camera_page=photos.CAMERA_PAGE,
    )  # fmt: skip

    @app.middleware("http")
    async def household_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        raw = request.cookies.get(COOKIE)
        loaded: dict[str, Any] | None = signer.loads(raw) if raw else None
        state = dict(loaded) if loaded else {"csrf": new_csrf_token()}
        state.pop("iat", None)
        before = dict(state)
        request.state.home = state
        response = await call_next(request)
        if loaded is None or state != before:
            response.set_cookie(COOKIE, signer.dumps(state), max_age=COOKIE_MAX_AGE_S,
                                httponly=True, samesite="lax", secure=settings.https)  # fmt: skip
        return response

    # a phone on a slow link: pages, scripts and styles go compressed
    app.add_middleware(GZipMiddleware, minimum_size=500)
    # her Stop never waits behind her other pages for the interpreter either
    app.add_middleware(PageAdmission, limit=settings.page_concurrency)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(pages.api)
    pages.install_errors(app)
    return app
