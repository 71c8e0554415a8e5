"""Her progress photo, taken on the phone: `/photo` is the clinic's standardised capture
(`microamp.web.pages.outcomes.judge_capture`) at home. The camera under a ghost of her newest
comparable photo of the view; a frame is held for her to retake or save; saved, the server
measures it and keeps it on her client record only within the pose and distance tolerance,
with her photo-use consent, as the clinic keeps its own. A file input does the same where
there is no camera. `/photo/{id}` is one of her own photos (the ghost)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.home import add_home_photo, home_photo
from microamp.store.home_models import HomeAccount
from microamp.store.models import ProgressEntry
from microamp.store.photos import MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS
from microamp.vision.landmarks import vision_available
from microamp.vision.measures import VIEWS, check_view
from microamp.web.errors import field_errors
from microamp.web.home import session
from microamp.web.home.session import AccountDep, DbDep, home_page, recent_day, today_of
from microamp.web.pages.outcomes import (
    CAPTURE_LABELS,
    VIEW_LABELS,
    capture_kept,
    capture_refused,
    judge_capture,
    latest_comparable,
)

__all__ = ["CAMERA_PAGE", "router"]

router = APIRouter()
# the one page of the home app that may ask for the camera (`HeaderPolicy.camera_page`)
CAMERA_PAGE = re.compile(r"/photo")
_CONSENT_RULE = "you must agree to this photo being kept in your record and compared"


def _photo_page(
    request: Request,
    db: Session,
    account: HomeAccount,
    view: str,
    *,
    errors: list[Any] | None = None,
    typed: dict[str, str] | None = None,
    kept: ProgressEntry | None = None,
    status_code: int = 200,
) -> Response:
    ghost = latest_comparable(db, client_id=account.client_id, view=view)
    return home_page(
        request, "photo.html", account, status_code=status_code, title="Progress photo",
        view=view, views=VIEWS, view_labels=VIEW_LABELS, ghost=ghost, errors=errors or [],
        typed=typed or {}, kept=kept, vision=vision_available(), consent_rule=_CONSENT_RULE,
        max_mb=MAX_PHOTO_BYTES // 1_000_000, max_megapixels=MAX_PHOTO_PIXELS // 1_000_000,
    )  # fmt: skip


@router.get("/photo")
def photo_page(
    request: Request, db: DbDep, account: AccountDep, view: str = "front", kept: int | None = None
) -> Response:
    entry = db.get(ProgressEntry, kept) if kept is not None else None
    if entry is not None and entry.client_id != account.client_id:
        entry = None
    return _photo_page(request, db, account, check_view(view), kept=entry)


@router.post("/photo")
async def photo_save(
    request: Request,
    db: DbDep,
    account: AccountDep,
    csrf_token: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "front",
    photo_use_consent: Annotated[str, Form()] = "",
    taken_on: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Keep a photo taken now, or one the phone kept while offline (``taken_on``, the day it
    was taken: see `recent_day`). Sent again, it is the entry already kept."""
    session.csrf_ok(request, csrf_token)
    wants_json = "application/json" in request.headers.get("accept", "")
    today = today_of(request)
    try:
        day = recent_day(taken_on, today, "taken_on") if taken_on else today
        checked_view, prepared = await judge_capture(
            db, client_id=account.client_id, view=view,
            photo_use_consent=bool(photo_use_consent), photo=photo, consent_rule=_CONSENT_RULE,
        )  # fmt: skip
    except InvalidValue as exc:
        if wants_json:
            return capture_refused(exc)
        safe_view = view if view in VIEWS else "front"
        return _photo_page(request, db, account, safe_view, errors=field_errors(exc, CAPTURE_LABELS),
                           typed={"photo_use_consent": photo_use_consent}, status_code=422)  # fmt: skip
    entry = add_home_photo(db, account, photo=prepared, view=checked_view, taken_on=day,
                           today=today, photo_use_consent=True)  # fmt: skip
    db.commit()
    if wants_json:
        return capture_kept(entry, prepared)
    return RedirectResponse(f"/photo?view={checked_view}&kept={entry.id}", status_code=303)


@router.get("/photo/{entry_id}")
def own_photo(db: DbDep, account: AccountDep, entry_id: int) -> Response:
    stored = home_photo(db, account, entry_id=entry_id)
    if stored is None:
        raise HTTPException(404, f"No photo {entry_id} of yours.")
    db.commit()
    return Response(
        stored.data, media_type=stored.media_type, headers={"Cache-Control": "private, no-store"}
    )
