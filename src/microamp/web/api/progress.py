"""Progress photos: a clinical role adds one to a client's record (multipart, field ``photo``),
by the same path as the client page's form (`microamp.web.uploads`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile

from microamp.errors import InvalidValue
from microamp.store.outcomes import client_outcomes, client_photos
from microamp.store.photos import MAX_PHOTO_PIXELS, MAX_STORED_EDGE_PX
from microamp.web.api.models import ProgressPublic
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit
from microamp.web.uploads import read_photo, save_progress

_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")
router = APIRouter(tags=["progress"])
View = Literal["front", "left45", "right45"]

_PHOTO_HELP = (
    f"A JPEG or PNG of at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels (judged from its "
    f"header before decoding); kept without its metadata, at most {MAX_STORED_EDGE_PX} px on "
    "its longer side."
)


@router.post(
    "/clients/{client_id}/photos",
    status_code=201,
    responses=invalid(
        "`photo` is not a JPEG or PNG, or has more pixels than the stated limit; `view` is not front, left45 or right45; `taken_on` is in the future; or a note is over its length"
    ),
)
async def add_photo(
    user: ApiUser,
    db: DbDep,
    client_id: RowId,
    photo: Annotated[UploadFile, File(description=_PHOTO_HELP)],
    taken_on: Annotated[
        date | None, Form(description="The day it was taken; today if left out.")
    ] = None,
    notes: Annotated[str, Form(max_length=2000)] = "",
    view: Annotated[
        View | None,
        Form(description="front, left45 or right45: a photo with a view is measured at upload."),
    ] = None,
    lighting_notes: Annotated[str, Form(max_length=500)] = "",
    photo_use_consent: Annotated[
        bool, Form(description="The client agreed to this photo being kept and compared.")
    ] = False,
) -> ProgressPublic:
    prepared = await read_photo(photo, view=view)
    if prepared is None:
        raise InvalidValue("photo", "an empty file", "must be a JPEG or PNG image")
    entry = save_progress(
        db, user, client_id=client_id, taken_on=taken_on or date.today(),
        photo=prepared, notes=notes, view=view, lighting_notes=lighting_notes,
        photo_use_consent=photo_use_consent,
    )  # fmt: skip
    return ProgressPublic.of(entry, prepared)


@router.get("/clients/{client_id}/photos", responses=_ID)
def list_photos(user: ApiUser, db: DbDep, client_id: RowId) -> list[ProgressPublic]:
    """A client's progress photos, oldest first, each with its measures when it has a view."""
    entries = client_photos(db, client_id=client_id)
    audit(db, user, "read", f"client:{client_id}/progress", client_id=client_id)
    return [ProgressPublic.of(entry, None) for entry in entries]


@router.get(
    "/clients/{client_id}/outcomes",
    responses=invalid("`client_id` is out of range, or `view` is not front, left45 or right45"),
)
def outcomes(user: ApiUser, db: DbDep, client_id: RowId, view: View = "front") -> dict[str, Any]:
    """Each measure over time beside the cumulative delivered charge by zone and the sessions
    attended, with the measurement error; a change inside the error is no measurable change."""
    document = client_outcomes(db, client_id=client_id, view=view).as_dict()
    audit(db, user, "read", f"client:{client_id}/outcomes", client_id=client_id)
    return document
