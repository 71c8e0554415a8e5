"""The one path a progress photo takes into the clinic, from the client page's form and from
``POST /api/v1/clients/{id}/photos`` alike: read, prepared off the event loop, stored, audited.

`prepare_photo` decodes and scales the image, which takes a second or two for a large photo:
run on the event loop it would hold up every other request meanwhile, a Stop on a live session
included. It runs in the thread pool instead, at most `PHOTOS_AT_ONCE` at a time (each may
hold about 150 MB while it is decoded). A photo whose header states too many pixels is refused
first, on the loop, in microseconds: a bomb never waits behind a large photo.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date

from fastapi import UploadFile
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from microamp.store.models import ProgressEntry, User
from microamp.store.photos import (
    PreparedPhoto,
    add_progress_entry,
    check_photo_header,
    prepare_photo,
)
from microamp.web.deps import audit

__all__ = ["PHOTOS_AT_ONCE", "read_photo", "save_progress"]

PHOTOS_AT_ONCE = 2
_decoding = threading.BoundedSemaphore(PHOTOS_AT_ONCE)


def _prepare_in_turn(data: bytes, view: str | None) -> PreparedPhoto:
    with _decoding:
        return prepare_photo(data, view=view)


async def read_photo(upload: UploadFile | None, *, view: str | None = None) -> PreparedPhoto | None:
    """The uploaded photo, prepared in the thread pool (and, with a ``view``, measured there:
    the landmark model takes a tenth of a second or more); None when no file was chosen.
    Raises `InvalidValue` on ``photo`` (see `prepare_photo`)."""
    if upload is None or not upload.filename:
        return None
    data = await upload.read()
    if not data:
        return None
    check_photo_header(data)
    return await run_in_threadpool(_prepare_in_turn, data, view)


def save_progress(
    db: Session,
    user: User,
    *,
    client_id: int,
    taken_on: date,
    photo: PreparedPhoto | None,
    ratings: Mapping[str, int] | None = None,
    notes: str = "",
    view: str | None = None,
    lighting_notes: str = "",
    photo_use_consent: bool = False,
) -> ProgressEntry:
    """A progress entry with its photo, and its audit row, in one transaction."""
    entry = add_progress_entry(
        db,
        client_id=client_id,
        taken_on=taken_on,
        today=date.today(),
        photo=photo,
        ratings=ratings,
        notes=notes,
        recorded_by_id=user.id,
        view=view,
        lighting_notes=lighting_notes,
        photo_use_consent=photo_use_consent,
    )
    audit(db, user, "write", f"client:{client_id}/progress", client_id=client_id, entry_id=entry.id)
    return entry
