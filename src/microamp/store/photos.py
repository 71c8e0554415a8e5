"""Progress entries: photos kept on disk with their metadata stripped, and ratings.

A phone photo carries EXIF: GPS position, device, time. Only the pixels are kept (turned
upright first, since the orientation lives in EXIF too), saved under the photos directory by
their SHA-256, so the same photo twice is stored once.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from microamp.clinic.dates import not_in_future
from microamp.errors import InvalidValue
from microamp.store.crud import get_client
from microamp.store.models import ProgressEntry

__all__ = ["add_progress_entry", "strip_metadata"]

MAX_PHOTO_BYTES = 25 * 1024 * 1024
_RATING_NAME_MAX = 40
# what a phone or camera saves; anything else (GIF, TIFF, WebP, PDF...) is refused by name
_FORMATS = ("JPEG", "MPO", "PNG")


def strip_metadata(photo: bytes) -> tuple[bytes, str]:
    """The photo re-encoded from its pixels alone, and its file suffix (``.jpg`` or ``.png``)."""
    if len(photo) > MAX_PHOTO_BYTES:
        raise InvalidValue(
            "photo", f"{len(photo)} bytes", f"must be at most {MAX_PHOTO_BYTES} bytes"
        )
    try:
        with Image.open(io.BytesIO(photo)) as original:
            if original.format not in _FORMATS:
                raise InvalidValue("photo", original.format, "must be a JPEG or PNG image")
            upright = ImageOps.exif_transpose(original)
            is_png = original.format == "PNG"
            clean = Image.new(upright.mode, upright.size)
            clean.paste(upright)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidValue("photo", "file", "must be a JPEG or PNG image") from None
    out = io.BytesIO()
    if is_png:
        clean.save(out, format="PNG")
        return out.getvalue(), ".png"
    clean.convert("RGB").save(out, format="JPEG", quality=92)
    return out.getvalue(), ".jpg"


def _ratings(ratings: Mapping[str, int]) -> dict[str, int]:
    checked = {}
    for name, value in ratings.items():
        if not name or len(name) > _RATING_NAME_MAX:
            raise InvalidValue(
                "ratings", name, f"a rating needs a name of 1-{_RATING_NAME_MAX} characters"
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise InvalidValue(f"ratings.{name}", value, "must be a whole number 0-10")
        checked[name] = value
    return checked


def add_progress_entry(
    session: Session,
    *,
    client_id: int,
    taken_on: date,
    today: date,
    photos_dir: Path,
    photo: bytes | None = None,
    ratings: Mapping[str, int] | None = None,
    notes: str = "",
    treatment_session_id: int | None = None,
    recorded_by_id: int | None = None,
) -> ProgressEntry:
    """A progress entry; ``photo`` (JPEG or PNG bytes) is stripped of metadata and written
    under ``photos_dir/<client id>/``. ``taken_on`` after ``today`` is refused."""
    not_in_future("taken_on", taken_on, today=today)
    client = get_client(session, client_id=client_id)
    path: Path | None = None
    digest: str | None = None
    if photo is not None:
        clean, suffix = strip_metadata(photo)
        digest = hashlib.sha256(clean).hexdigest()
        path = photos_dir / str(client.id) / f"{digest}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(clean)
    entry = ProgressEntry(
        client_id=client.id,
        treatment_session_id=treatment_session_id,
        taken_on=taken_on,
        photo_path=str(path) if path else None,
        photo_sha256=digest,
        ratings=_ratings(ratings or {}),
        notes=notes,
        recorded_by_id=recorded_by_id,
    )
    session.add(entry)
    session.flush()
    return entry
