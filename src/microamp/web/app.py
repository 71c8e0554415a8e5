"""`create_app(settings)`: the clinic web app, pages and JSON API in one FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from microamp.station import Station, StoreSessions, Sweeper
from microamp.store.audit_checkpoints import CheckpointWriter
from microamp.store.audit_key import require_shared_audit_key
from microamp.store.base import utc_now
from microamp.store.config import load_settings
from microamp.store.db import Store, open_store
from microamp.store.mail import seal_plain_password
from microamp.store.mail_secret import mail_password_key
from microamp.store.outbox import MailSender
from microamp.store.reminders import queue_reminders
from microamp.viz.facemap import MAP_STYLE_RULES
from microamp.web import api, errors, pages
from microamp.web.api.responses import ERROR_RESPONSES
from microamp.web.cookies import SessionCookieMiddleware
from microamp.web.deps import DbDep, cookie_user
from microamp.web.docs import api_reference
from microamp.web.headers import HeaderPolicy, SecurityHeadersMiddleware, sha256_source
from microamp.web.identity import SessionBook, WallClock, session_rules
from microamp.web.lanes import PageAdmission, UrgentLane
from microamp.web.limits import BodyLimitMiddleware
from microamp.web.render import make_templates, page
from microamp.web.security import SessionSigner
from microamp.web.settings import WebSettings, client_link_key, shared_secret_key

__all__ = ["create_app", "declared_routes"]

STATIC_DIR = Path(__file__).with_name("static")
OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
API_DESCRIPTION = (
    "The microamp clinic API: clients, screening, course plans, sessions and their records. "
    "Authenticate with a personal API token (Account page) as `Authorization: Bearer <token>`. "
    "microamp is not a cleared medical device."
)


def declared_routes(app: FastAPI) -> list[tuple[str, str, BaseRoute]]:
    """Every (method, full path, route) the app serves, the API's with their prefix."""
    found: list[tuple[str, str, BaseRoute]] = []
    for prefix, routers in (("", pages.ROUTERS), (api.PREFIX, api.ROUTERS)):
        for router in routers:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    found += [(m, prefix + route.path, route) for m in sorted(route.methods or ())]
    for route in app.routes:  # the app's own: OpenAPI and its docs page
        if isinstance(route, Route):
            found += [(m, route.path, route) for m in sorted(route.methods or ()) if m != "HEAD"]
    return found


class ClinicApp(FastAPI):
    """The FastAPI app with the security headers outside everything else, Starlette's own
    500 page included (a middleware added the usual way sits inside it)."""

    header_policy = HeaderPolicy()

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(
            super().build_middleware_stack(), policy=self.header_policy
        )


def _add_docs(app: ClinicApp) -> None:
    """The API reference page, rendered from the app's own OpenAPI document (no script)."""

    @app.get(DOCS_URL, include_in_schema=False)
    def api_docs(request: Request, db: DbDep) -> HTMLResponse:
        openapi = app.openapi()
        return page(request, "api_docs.html", cookie_user(request, db), title="API reference",
                    info=openapi["info"], sections=api_reference(openapi),
                    openapi_url=OPENAPI_URL)  # fmt: skip


def open_web_store(settings: WebSettings) -> Store:
    """The record store the app serves, migrated to the newest revision; `InvalidValue` naming
    ``MICROAMP_SECRET_KEY`` or ``MICROAMP_AUDIT_KEY`` when this worker's key is not the other
    workers' (checked here, so such a worker stops before it listens)."""
    store_settings = load_settings(data_dir=settings.data_dir)
    store = open_store(settings.database_url, settings=store_settings, upgrade=True)
    try:
        secret_key = shared_secret_key(settings, store)
        with store.transaction() as session:
            require_shared_audit_key(session, store.settings)
            # an SMTP password an older microamp stored in plain text is sealed from now on
            seal_plain_password(session, mail_password_key(secret_key))
    except BaseException:
        store.close()
        raise
    return store


def _checkpoint_writer(store: Store, settings: WebSettings) -> CheckpointWriter | None:
    if settings.audit_checkpoint_s <= 0:
        return None
    writer = CheckpointWriter(store, interval_s=settings.audit_checkpoint_s)
    writer.start()
    return writer


def _mail_sender(
    store: Store, settings: WebSettings, link_key: bytes, mail_key: bytes
) -> MailSender | None:
    if settings.mail_send_s <= 0:
        return None

    def reminders(session: Session, now: datetime) -> object:
        return queue_reminders(session, key=link_key, base_url=settings.public_url, now=now)

    sender = MailSender(store, key=mail_key, interval_s=settings.mail_send_s,
                        before_pass=reminders)  # fmt: skip
    sender.start()
    return sender


# an embedded station's pool: its loop, lease heartbeat, recorder, publisher and listener
STATION_CONNECTIONS = 8


def station_in_process(store: Store, settings: WebSettings) -> Station:
    """A station of ``settings.device_url`` in this process (the clinic's embedded default, the
    home app's device mode) on connections of its own: page reads that take every one of the
    web pool's never keep it from recording, hearing a Stop or renewing its lease. Whoever stops
    it closes its store."""
    return Station(store.apart(STATION_CONNECTIONS), name=settings.station_name,
                   device_url=settings.device_url, speed=settings.session_speed)  # fmt: skip


def _embedded_station(store: Store, settings: WebSettings) -> Station | None:
    """The station of the embedded default: this process owns the clinic's device too."""
    return station_in_process(store, settings) if settings.embedded_station else None


def create_app(
    settings: WebSettings | None = None,
    *,
    store: Store | None = None,
    wall_clock: WallClock = utc_now,
) -> FastAPI:
    """The web app. ``store`` may be passed in (tests, the bench); else it is opened from
    ``settings`` and closed when the app shuts down. ``wall_clock`` tells sessions, the throttle
    and two-factor codes the time (tests pass one that they move)."""
    settings = settings or WebSettings()
    owned = store is None
    store = store or open_web_store(settings)
    station = _embedded_station(store, settings)
    live = StoreSessions(store, ring=station.ring if station is not None else lambda _name: None)
    urgent = UrgentLane(store, live)
    sweeper = Sweeper(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # as many requests run at once as the store keeps connections for (see StoreSettings)
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            store.settings.request_threads
        )
        checkpoints = _checkpoint_writer(store, settings)
        mail = _mail_sender(store, settings, app.state.link_key, app.state.mail_key)
        sweeper.start()
        if station is not None:
            # a device that does not answer now must not keep the clinic's pages down
            station.start(check_device=False)
        try:
            yield
        finally:
            if checkpoints is not None:
                checkpoints.stop()
            if mail is not None:
                mail.stop()
            if station is not None:
                station.stop()
                station.store.close()
            sweeper.stop()
            urgent.close()
            if owned:
                store.close()

    app = ClinicApp(
        title="microamp",
        version="1",
        description=API_DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.live = live
    app.state.urgent = urgent
    app.state.station = station
    app.state.templates = make_templates()
    app.state.wall_clock = wall_clock
    secret_key = shared_secret_key(settings, store)
    signer = SessionSigner(secret_key, max_age_s=settings.session_max_age_s)
    # pre-visit links are signed with a key of their own, derived from the shared one
    app.state.link_key = client_link_key(secret_key)
    # and the SMTP password is sealed at rest under another one (microamp.store.mail_secret)
    app.state.mail_key = mail_password_key(secret_key)
    rules = session_rules(settings)
    book = SessionBook(store, rules, wall_clock)
    urgent_book = SessionBook(urgent.store, rules, wall_clock)
    # inside the session middleware, so a refused upload still gets the signed-in error page
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(
        SessionCookieMiddleware, signer=signer, secure=settings.https, resolve=book.resolve,
        resolve_urgent=urgent_book.resolve,
    )  # fmt: skip
    # outside the cookie's lookup: a page waiting its turn has not touched the store yet
    app.add_middleware(PageAdmission, limit=settings.page_concurrency)
    app.header_policy = HeaderPolicy(
        https=settings.https, style_hashes=(sha256_source(MAP_STYLE_RULES),)
    )
    _add_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in pages.ROUTERS:
        app.include_router(router, include_in_schema=False)
    for router in api.ROUTERS:
        app.include_router(router, prefix=api.PREFIX, responses=ERROR_RESPONSES)
    errors.install(app)
    return app
