"""Personalisation pages: what the person skips and each zone's level (`/settings`), and the
routine builder (`/build`), which offers only what the home profile allows."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from microamp.errors import InvalidValue, InvalidValues
from microamp.protocols.anatomy import MUSCLES
from microamp.protocols.home_routines import (
    MIN_LEVEL,
    RoutinePick,
    build_routine,
    home_offer,
    personalise,
)
from microamp.safety.limits import ZONES
from microamp.store.home import save_home_routine, set_preferences
from microamp.web.errors import FieldError
from microamp.web.home import session
from microamp.web.home.routines import HOME_PROFILE
from microamp.web.home.session import AccountDep, DbDep, home_page

__all__ = ["router"]

router = APIRouter()
BUILDER_ROWS = 8
LEVELS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
_NAME = re.compile(r"[^a-z0-9]+")


def _settings_page(
    request: Request,
    db: Any,
    account: Any,
    *,
    shown: tuple[set[str], dict[str, float]] | None = None,
    **more: Any,
) -> Response:
    """The settings form with the account's choices, or ``shown`` (what was just posted)."""
    offer = home_offer(HOME_PROFILE)
    skipped, levels = shown or (set(account.skipped), dict(account.zone_levels))
    return home_page(request, "settings.html", account, title="My routine", zones=ZONES,
                     muscles=offer["muscles"], levels=LEVELS, skipped=skipped,
                     zone_levels=levels, **more)  # fmt: skip


@router.get("/settings")
def settings_page(request: Request, db: DbDep, account: AccountDep) -> Response:
    return _settings_page(request, db, account, saved=request.query_params.get("saved") == "1")


@router.post("/settings")
async def settings_post(request: Request, db: DbDep, account: AccountDep) -> Response:
    form = await request.form()
    session.csrf_ok(request, str(form.get("csrf_token", "")))
    skipped = [str(v) for v in form.getlist("skip") if str(v) in ZONES or str(v) in MUSCLES]
    levels: dict[str, float] = {}
    errors: list[FieldError] = []
    for zone in ZONES:
        raw = str(form.get(f"level-{zone}", "1"))
        try:
            level = float(raw)
        except ValueError:
            level = -1.0
        if not MIN_LEVEL <= level <= 1.0:
            errors.append(FieldError(f"level-{zone}", f"level-{zone}",
                                     f"The {zone} level must be {MIN_LEVEL:g} to 1"))  # fmt: skip
        elif level < 1.0:
            levels[zone] = level
    if not errors:
        # a choice that leaves the everyday routine with no step is refused here, not at the guide
        try:
            _check_leaves_something(skipped, levels)
        except InvalidValue as exc:
            errors.append(FieldError("skip", "skip-first", exc.rule))
    if errors:
        return _settings_page(request, db, account, errors=errors, status_code=422,
                              shown=(set(skipped), levels))  # fmt: skip
    set_preferences(db, account, skipped=skipped, zone_levels=levels)
    db.commit()  # before the redirect: the next page must see it
    return RedirectResponse("/settings?saved=1", status_code=303)


def _check_leaves_something(skipped: list[str], levels: dict[str, float]) -> None:
    from microamp.protocols.library import load_protocol

    for name in ("home-express",):
        personalise(load_protocol(name, HOME_PROFILE), skipped=skipped, zone_levels=levels,
                    profile=HOME_PROFILE)  # fmt: skip


def _builder_page(request: Request, account: Any, **more: Any) -> Response:
    offer = home_offer(HOME_PROFILE)
    more.setdefault("values", {})
    return home_page(request, "build.html", account, title="Build a routine", offer=offer,
                     rows=range(BUILDER_ROWS), **more)  # fmt: skip


@router.get("/build")
def builder(request: Request, account: AccountDep) -> Response:
    return _builder_page(request, account)


@router.post("/build")
async def builder_post(request: Request, db: DbDep, account: AccountDep) -> Response:
    form = await request.form()
    session.csrf_ok(request, str(form.get("csrf_token", "")))
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    title = values.get("title", "").strip()
    errors: list[FieldError] = []
    if not title:
        errors.append(FieldError("title", "title", "Give the routine a name"))
    picks: list[RoutinePick] = []
    rows: list[int] = []
    for i in range(BUILDER_ROWS):
        muscle = values.get(f"muscle-{i}", "")
        if not muscle:
            continue
        try:
            picks.append(RoutinePick(muscle, int(values.get(f"reps-{i}", "3")),
                                     float(values.get(f"seconds-{i}", "5"))))  # fmt: skip
            rows.append(i)
        except ValueError:
            errors.append(FieldError(f"muscle-{i}", f"muscle-{i}", f"Step {i + 1}: choose from the lists"))  # fmt: skip
    name = "my-" + (_NAME.sub("-", title.lower()).strip("-")[:40] or "routine")
    if not errors:
        try:
            cue = float(values.get("cue_interval_s", "5"))
            protocol = build_routine(name=name, title=title, picks=picks, cue_interval_s=cue,
                                     profile=HOME_PROFILE)  # fmt: skip
        except InvalidValue as exc:
            errors += [_builder_error(e, rows) for e in (exc.errors if isinstance(exc, InvalidValues) else [exc])]  # fmt: skip
        except ValueError:
            errors.append(FieldError("cue_interval_s", "cue_interval_s", "Choose a cue interval"))
    if errors:
        return _builder_page(request, account, errors=errors, values=values, status_code=422)
    save_home_routine(
        db, account, name=name, data=protocol.model_dump(mode="json", exclude_none=True)
    )
    db.commit()
    return RedirectResponse(f"/guide/{name}", status_code=303)


def _builder_error(exc: InvalidValue, rows: list[int]) -> FieldError:
    found = re.match(r"steps\[(\d+)\]\.(\w+)", exc.field)
    if found and int(found.group(1)) < len(rows):
        row = rows[int(found.group(1))]
        key = {"repetitions": "reps", "seconds": "seconds"}.get(found.group(2), "muscle")
        return FieldError(f"{key}-{row}", f"{key}-{row}", f"Step {row + 1}: {exc.rule}")
    if exc.field == "cue_interval_s":
        return FieldError("cue_interval_s", "cue_interval_s", f"Cue interval: {exc.rule}")
    return FieldError("muscle-0", "muscle-0", exc.rule)
