"""Progress photos: a clinical role adds one to a client's record (multipart, field ``photo``),
by the same path as the client page's form (`microamp.web.uploads`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from microamp.errors import InvalidValue
from microamp.store.photos import MAX_PHOTO_PIXELS, MAX_STORED_EDGE_PX
from microamp.web.api.models import ProgressPublic
from microamp.web.deps import ApiUser, DbDep, RowId, StoreDep
from microamp.web.uploads import read_photo, save_progress

router = APIRouter(tags=["progress"])

_PHOTO_HELP = (
    f"A JPEG or PNG of at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels (judged from its "
    f"header before decoding); kept without its metadata, at most {MAX_STORED_EDGE_PX} px on "
    "its longer side."
)


@router.post("/clients/{client_id}/photos", status_code=201)
async def add_photo(
    user: ApiUser,
    db: DbDep,
    store: StoreDep,
    client_id: RowId,
    photo: Annotated[UploadFile, File(description=_PHOTO_HELP)],
    taken_on: Annotated[
        date | None, Form(description="The day it was taken; today if left out.")
    ] = None,
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> ProgressPublic:
    prepared = await read_photo(photo)
    if prepared is None:
        raise InvalidValue("photo", "an empty file", "must be a JPEG or PNG image")
    entry = save_progress(
        db, store, user, client_id=client_id, taken_on=taken_on or date.today(),
        photo=prepared, notes=notes,
    )  # fmt: skip
    return ProgressPublic.of(entry, prepared)
