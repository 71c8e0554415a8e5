"""The home app's pages and its one API call (the session log).

First run (`/welcome`) creates the household's account, then asks her health questions
(`/health`, see `health`); `/` is today: the routines, the
streak, adherence and the month's calendar; `/guide/{name}` runs a routine in guide mode;
`/settings` keeps what she skips and her zone levels; `/build` makes a routine of her own;
`/plan.ics` is the regimen as a calendar file (reminders where notifications are not granted);
`/photo` takes her progress photo (see `photos`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from microamp.clinic.home_regimen import daily_time_refusal, month_days, regimen
from microamp.clinic.ics import plan_to_ics
from microamp.clinic.plans import TEMPLATES
from microamp.errors import InvalidValue, InvalidValues
from microamp.protocols.home_routines import MIN_LEVEL
from microamp.safety.limits import ZONES
from microamp.store.base import utc_now
from microamp.store.home import (
    create_home_account,
    home_account,
    home_gate,
    home_outcomes,
    record_home_session,
    seconds_on,
    set_preferences,
)
from microamp.store.home_plan import regimen_done_days, regimen_plan
from microamp.viz.facemap import facemap_svg
from microamp.web.errors import FieldError
from microamp.web.home import build, device, health, photos, session
from microamp.web.home.routines import HOME_PROFILE, available_routines, guide_payload, routine_for
from microamp.web.home.session import (
    AccountDep,
    DbDep,
    NeedsSignIn,
    home_page,
    recent_day,
    today_of,
)
from microamp.web.home.statics import manifest, service_worker
from microamp.web.pages.outcomes import measure_charts
from microamp.web.security import (
    MIN_PASSWORD_CHARS,
    check_password_rules,
    hash_password,
    verify_password,
)

__all__ = ["api", "install_errors", "router"]

router = APIRouter()
api = APIRouter(prefix="/api")
router.include_router(build.router)
router.include_router(health.router)
router.include_router(device.router)
router.include_router(photos.router)
MAX_DAILY_S = HOME_PROFILE.max_daily_s.value
# the calendar rings at 9:00 on each planned day: the one reminder that needs no open app
REMINDER_AFTER_MIDNIGHT = timedelta(hours=9)
WELCOME_LABELS = {
    "display_name": "Your name",
    "date_of_birth": "Date of birth",
    "password": "Choose a password",
    "password_again": "The password again",
}


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/manifest.webmanifest")
def get_manifest() -> Response:
    return manifest()


@router.get("/sw.js")
def get_service_worker() -> Response:
    return service_worker()


# -- first run and sign-in ------------------------------------------------------------------


@router.get("/welcome")
def welcome(request: Request, db: DbDep) -> Response:
    if home_account(db) is not None:
        return _redirect("/")
    return home_page(request, "welcome.html", None, title="Welcome", labels=WELCOME_LABELS,
                     min_password=MIN_PASSWORD_CHARS)  # fmt: skip


@router.post("/welcome")
def welcome_post(
    request: Request,
    db: DbDep,
    csrf_token: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    date_of_birth: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    session.csrf_ok(request, csrf_token)
    if home_account(db) is not None:
        return _redirect("/")
    today = today_of(request)
    errors: list[FieldError] = []
    name = display_name.strip()
    if not name:
        errors.append(FieldError("display_name", "display_name", "Enter your name"))
    born: date | None = None
    try:
        born = date.fromisoformat(date_of_birth)
        if born > today:
            errors.append(
                FieldError("date_of_birth", "date_of_birth", "Date of birth is in the future")
            )
    except ValueError:
        errors.append(FieldError("date_of_birth", "date_of_birth", "Enter your date of birth"))
    problem = check_password_rules(password, known=[name])
    if problem:
        errors.append(FieldError("password", "password", f"Password: {problem}"))
    elif password != password_again:
        errors.append(FieldError("password_again", "password_again", "The two passwords differ"))
    if errors or born is None:
        return home_page(request, "welcome.html", None, status_code=422, title="Welcome",
                         labels=WELCOME_LABELS, min_password=MIN_PASSWORD_CHARS, errors=errors,
                         values={"display_name": display_name, "date_of_birth": date_of_birth})  # fmt: skip
    account = create_home_account(db, display_name=name, date_of_birth=born,
                                  password_hash=hash_password(password), plan_start=today,
                                  today=today)  # fmt: skip
    db.commit()
    session.sign_in_as(request, account)
    return _redirect("/health")


@router.get("/signin")
def signin(request: Request, db: DbDep) -> Response:
    account = home_account(db)
    if account is None:
        return _redirect("/welcome")
    return home_page(request, "signin.html", None, title="Sign in", person=account.display_name)


@router.post("/signin")
def signin_post(
    request: Request,
    db: DbDep,
    csrf_token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    session.csrf_ok(request, csrf_token)
    account = home_account(db)
    if account is None:
        return _redirect("/welcome")
    if not verify_password(account.password_hash, password):
        errors = [FieldError("password", "password", "That is not the password")]
        return home_page(request, "signin.html", None, status_code=422, title="Sign in",
                         person=account.display_name, errors=errors)  # fmt: skip
    session.sign_in_as(request, account)
    return _redirect("/")


@router.post("/signout")
def signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    session.csrf_ok(request, csrf_token)
    session.sign_out(request)
    return _redirect("/signin")


# -- today, the guide, the calendar file -------------------------------------------------------


def _calendar(day: date, status: Any) -> list[list[dict[str, Any]]]:
    """The month of ``day`` in weeks (Monday first), each day with its regimen kind."""
    days = month_days(day)
    weeks: list[list[dict[str, Any]]] = [[]]
    weeks[0] = [{"day": None}] * days[0].weekday()
    for d in days:
        if len(weeks[-1]) == 7:
            weeks.append([])
        weeks[-1].append({"day": d, "kind": status.kind_of(d), "today": d == day})
    weeks[-1] += [{"day": None}] * (7 - len(weeks[-1]))
    return weeks


@router.get("/")
def today_page(request: Request, db: DbDep) -> Response:
    account = home_account(db)
    if account is None:
        return _redirect("/welcome")
    if request.state.home.get("account") != account.id:
        return _redirect("/signin")
    today = today_of(request)
    plan, source = regimen_plan(db, account)
    status = regimen(plan, regimen_done_days(db, account), today)
    used = seconds_on(db, account, today)
    return home_page(
        request, "today.html", account, title="Today", today=today, regimen=status,
        plan=plan, plan_source=source, plan_description=TEMPLATES[plan.template].description,
        routines=available_routines(db, account), used_s=used, max_daily_s=MAX_DAILY_S,
        weeks=_calendar(today, status), decision=home_gate(db, account, on=today),
        device_mode=getattr(request.app.state, "live", None) is not None,
        charts=[c for c in measure_charts(home_outcomes(db, account)) if c["trend"].baseline
                is not None],
    )  # fmt: skip


@router.get("/guide/{name}")
def guide(request: Request, db: DbDep, account: AccountDep, name: str) -> Response:
    routine = routine_for(db, account, name)
    if routine.protocol is None:
        raise InvalidValue("routine", name, routine.error)
    today = today_of(request)
    used = seconds_on(db, account, today)
    payload = guide_payload(routine, used_today_s=used, today=today.isoformat(),
                            max_daily_s=MAX_DAILY_S, zone_levels=account.zone_levels)  # fmt: skip
    refusal = daily_time_refusal(used_s=used, routine_s=routine.total_s, max_daily_s=MAX_DAILY_S,
                                 source=HOME_PROFILE.max_daily_s.source)  # fmt: skip
    return home_page(
        request, "guide.html", account, title=routine.title, routine=routine,
        payload=json.dumps(payload).replace("<", "\\u003c"), refusal=refusal,
        decision=home_gate(db, account, on=today),
        facemap=facemap_svg(routine.steps, drawing_id="guide-map", title=""),
    )  # fmt: skip


@router.get("/plan.ics")
def plan_ics(db: DbDep, account: AccountDep) -> Response:
    plan, _source = regimen_plan(db, account)
    body = plan_to_ics(plan, stamp=utc_now(), summary="Home microcurrent routine",
                       alarm_after_start=REMINDER_AFTER_MIDNIGHT)  # fmt: skip
    return Response(body, media_type="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="microamp-home.ics"'})  # fmt: skip


# -- the session log ---------------------------------------------------------------------------


@api.post("/sessions")
async def post_session(request: Request, db: DbDep, account: AccountDep) -> Response:
    session.csrf_ok(request, request.headers.get("X-CSRF-Token"))
    try:
        body = await request.json()
    except ValueError:
        raise InvalidValue("body", "", "must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidValue("body", body, "must be a JSON object")
    today = today_of(request)
    on_date = recent_day(body.get("on_date"), today, "on_date")
    fields: dict[str, Any] = dict(
        uuid=str(body.get("uuid", "")), protocol_name=str(body.get("protocol", "")),
        protocol_hash=str(body.get("hash", "")), on_date=on_date,
        seconds_done=_number(body, "seconds_done"), steps_done=_steps(body),
        status=str(body.get("status", "")), cues=int(_number(body, "cues")),
        max_seconds=MAX_DAILY_S,
    )  # fmt: skip
    row, new = record_home_session(db, account, **fields)
    try:
        # committed before the answer: the phone drops its copy on a 2xx, so the row must be kept
        db.commit()
    except IntegrityError:  # the same log from the phone's other tab, a moment earlier
        db.rollback()
        row, new = record_home_session(db, account, **fields)
    return JSONResponse({"id": row.id, "new": new, "on_date": row.on_date.isoformat()},
                        status_code=201 if new else 200)  # fmt: skip


@api.post("/levels")
async def lower_level(request: Request, db: DbDep, account: AccountDep) -> Response:
    """Lower one zone's level (the guide's Gentler button); raising it is for the settings page."""
    session.csrf_ok(request, request.headers.get("X-CSRF-Token"))
    body = await request.json()
    zone = str(body.get("zone", "")) if isinstance(body, dict) else ""
    if zone not in ZONES:
        raise InvalidValue("zone", zone, f"zones: {', '.join(ZONES)}")
    level = _number(body, "level")
    current = account.zone_levels.get(zone, 1.0)
    if not MIN_LEVEL <= level <= current:
        raise InvalidValue("level", level, f"from {MIN_LEVEL:g} up to the zone's {current:g}")
    set_preferences(db, account, skipped=account.skipped,
                    zone_levels={**account.zone_levels, zone: level})  # fmt: skip
    db.commit()
    return JSONResponse({"zone": zone, "level": level})


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(key, value, "must be a number")
    return float(value)


def _steps(body: dict[str, Any]) -> list[dict[str, Any]]:
    steps = body.get("steps_done", [])
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise InvalidValue("steps_done", steps, "a list of steps")
    return steps


# -- errors --------------------------------------------------------------------------------------


def install_errors(app: FastAPI) -> None:
    """Sign-in redirects for pages (401 for the API), 422 naming the field for bad input, 503
    with Retry-After for a request that found every store connection taken (as the clinic's)."""
    from sqlalchemy.exc import TimeoutError as PoolExhausted

    from microamp.web.errors import busy_response

    @app.exception_handler(PoolExhausted)
    async def pool_exhausted(request: Request, _exc: PoolExhausted) -> Response:
        return busy_response(request.url.path)

    @app.exception_handler(NeedsSignIn)
    async def needs_sign_in(request: Request, _exc: NeedsSignIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "sign in on this phone first"}, status_code=401)
        return _redirect("/signin")

    @app.exception_handler(InvalidValue)
    async def invalid(request: Request, exc: InvalidValue) -> Response:
        found = exc.errors if isinstance(exc, InvalidValues) else [exc]
        detail = [e.as_dict() for e in found]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=422)
        return home_page(request, "error.html", None, status_code=422, title="Not possible",
                         message=f"{exc.field}: {exc.rule}")  # fmt: skip

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return home_page(request, "error.html", None, status_code=exc.status_code,
                         title="Not possible", message=str(exc.detail))  # fmt: skip
