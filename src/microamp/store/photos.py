"""Progress entries: photos kept with their metadata stripped, and ratings.

A phone photo carries EXIF: GPS position, device, time. Only the pixels are kept (turned
upright first, since the orientation lives in EXIF too), stored in the database by their SHA-256
(`microamp.store.photo_blobs`), so the same photo twice is stored once and every web worker on
every host finds it.

A photo is judged by its header before any pixel is decoded: a file of a few hundred kilobytes
can declare 13,300 x 13,300 pixels and cost gigabytes to open (a decompression bomb). More than
`MAX_PHOTO_PIXELS` is refused by the width and height the header states; what is kept is scaled
down to at most `MAX_STORED_EDGE_PX` on its longer side, enough to compare visits side by side.
`prepare_photo` is the slow part (decoding, scaling, encoding): the web app runs it off its
event loop.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from microamp.clinic.dates import not_in_future
from microamp.errors import InvalidValue, NoFace, VisionUnavailable
from microamp.store.crud import get_client
from microamp.store.models import ProgressEntry
from microamp.store.photo_blobs import keep_photo
from microamp.vision.landmarks import ENABLE_HINT
from microamp.vision.measures import check_view

__all__ = [
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_PIXELS",
    "MAX_STORED_EDGE_PX",
    "PreparedPhoto",
    "add_progress_entry",
    "check_photo_header",
    "header_size",
    "measure_prepared",
    "open_photo",
    "prepare_photo",
    "strip_metadata",
]

MAX_PHOTO_BYTES = 25 * 1024 * 1024
# 50 megapixels: a 48 MP phone photo passes; decoding one costs about 150 MB of memory.
MAX_PHOTO_PIXELS = 50_000_000
# The longer side of a stored photo: a face at a useful size, a few hundred kilobytes on disk.
MAX_STORED_EDGE_PX = 2048
_RATING_NAME_MAX = 40
_LIGHTING_NOTES_MAX = 500
# what a phone or camera saves; anything else (GIF, TIFF, WebP, PDF...) is refused by name
_FORMATS = ("JPEG", "MPO", "PNG")
_NOT_A_PHOTO = "must be a JPEG or PNG image"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless...): they carry the frame size
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# markers that stand alone, without a length
_JPEG_BARE = frozenset({0x01, *range(0xD0, 0xD9)})


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    """A photo as it is kept: re-encoded pixels, their file suffix and digest, and its size."""

    data: bytes
    suffix: str  # ".jpg" or ".png"
    sha256: str
    width_px: int
    height_px: int
    # `Measurement.as_dict()` when measured, else why not (or None: not asked); the landmarks
    measurement: dict[str, Any] | None = None
    unmeasured: str | None = None
    landmarks_px: list[list[float]] | None = None


def _png_size(photo: bytes) -> tuple[int, int] | None:
    # the IHDR chunk comes first: length, b"IHDR", width, height (big-endian)
    if len(photo) < 24 or photo[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", photo[16:24])
    return width, height


def _jpeg_size(photo: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(photo):
        if photo[at] != 0xFF:
            return None
        marker = photo[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_BARE:
            at += 2
            continue
        (length,) = struct.unpack(">H", photo[at + 2 : at + 4])
        if marker in _JPEG_FRAMES:
            if at + 9 > len(photo):
                return None
            height, width = struct.unpack(">HH", photo[at + 5 : at + 9])
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header: not a photo
            return None
        at += 2 + length
    return None


def header_size(photo: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels as a PNG's or JPEG's header states them, read without
    decoding anything; None when ``photo`` is neither."""
    if photo.startswith(_PNG_SIGNATURE):
        return _png_size(photo)
    if photo.startswith(b"\xff\xd8"):
        return _jpeg_size(photo)
    return None


def _check_pixels(width_px: int, height_px: int) -> None:
    pixels = width_px * height_px
    if pixels > MAX_PHOTO_PIXELS:
        raise InvalidValue(
            "photo",
            f"{width_px} x {height_px} pixels ({pixels:,} pixels)",
            f"must be at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels "
            f"({MAX_PHOTO_PIXELS:,} pixels), judged from the image header before decoding: "
            f"this one states {width_px} x {height_px}, {pixels:,} pixels",
        )


def check_photo_header(photo: bytes) -> None:
    """Refuse ``photo`` by its size in bytes and the pixels its header states (`InvalidValue`
    on ``photo``), reading nothing but the header: microseconds, whatever the file claims."""
    if len(photo) > MAX_PHOTO_BYTES:
        raise InvalidValue(
            "photo", f"{len(photo)} bytes", f"must be at most {MAX_PHOTO_BYTES} bytes"
        )
    size = header_size(photo)
    if size is None:
        raise InvalidValue("photo", "file", _NOT_A_PHOTO)
    _check_pixels(*size)


def _upright_and_small(original: Image.Image) -> Image.Image:
    if original.format != "PNG":
        # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: no larger than the stored size needs
        original.draft("RGB", (MAX_STORED_EDGE_PX, MAX_STORED_EDGE_PX))
    upright = ImageOps.exif_transpose(original)
    upright.thumbnail((MAX_STORED_EDGE_PX, MAX_STORED_EDGE_PX), Image.Resampling.LANCZOS)
    clean = Image.new(upright.mode, upright.size)  # pixels only: no EXIF, no text chunks
    clean.paste(upright)
    return clean


def open_photo(photo: bytes) -> tuple[Image.Image, bool]:
    """``photo`` decoded, upright, its longer side at most `MAX_STORED_EDGE_PX`, with no
    metadata; and whether it was a PNG. Raises `InvalidValue` on ``photo`` for a file over
    `MAX_PHOTO_BYTES`, a header over `MAX_PHOTO_PIXELS` (before decoding), or anything that is
    not a JPEG or PNG image."""
    check_photo_header(photo)
    try:
        with Image.open(io.BytesIO(photo)) as original:
            if original.format not in _FORMATS:
                raise InvalidValue("photo", original.format, _NOT_A_PHOTO)
            _check_pixels(*original.size)  # what Pillow will decode, if it read another frame
            return _upright_and_small(original), original.format == "PNG"
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidValue("photo", "file", _NOT_A_PHOTO) from None


def _measured(clean: Image.Image, view: str) -> dict[str, Any]:
    """`PreparedPhoto`'s measurement fields for ``clean``: a photo is kept whether or not it
    can be measured, the reason beside it when it cannot."""
    from microamp.vision.landmarks import vision_available
    from microamp.vision.photo import measure_image

    if not vision_available():
        return {"measurement": None, "unmeasured": ENABLE_HINT}
    try:
        measurement, landmarks = measure_image(clean, view=view)
    except (NoFace, VisionUnavailable) as exc:
        return {"measurement": None, "unmeasured": str(exc)}
    return {
        "measurement": measurement.as_dict(),
        "unmeasured": None,
        "landmarks_px": [[round(x, 1), round(y, 1)] for x, y in landmarks.xy()],
    }


def prepare_photo(photo: bytes, *, view: str | None = None) -> PreparedPhoto:
    """``photo`` (JPEG or PNG bytes) re-encoded from its pixels alone (see `open_photo`); with
    ``view`` (front, left45, right45), measured too (`microamp.vision`), once, here."""
    if view is not None:
        check_view(view)
    clean, is_png = open_photo(photo)
    measured = _measured(clean, view) if view is not None else {}
    out = io.BytesIO()
    if is_png:
        clean.save(out, format="PNG")
    else:
        clean.convert("RGB").save(out, format="JPEG", quality=92)
    data = out.getvalue()
    return PreparedPhoto(
        data=data,
        suffix=".png" if is_png else ".jpg",
        sha256=hashlib.sha256(data).hexdigest(),
        width_px=clean.width,
        height_px=clean.height,
        **measured,
    )


def measure_prepared(prepared: PreparedPhoto, view: str) -> PreparedPhoto:
    """``prepared`` with its measures for ``view``, from the pixels as kept."""
    check_view(view)
    with Image.open(io.BytesIO(prepared.data)) as kept:
        kept.load()
        return replace(prepared, **_measured(kept, view))


def strip_metadata(photo: bytes) -> tuple[bytes, str]:
    """The photo re-encoded from its pixels alone, and its file suffix (``.jpg`` or ``.png``);
    see `prepare_photo`."""
    prepared = prepare_photo(photo)
    return prepared.data, prepared.suffix


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
    photo: PreparedPhoto | bytes | None = None,
    ratings: Mapping[str, int] | None = None,
    notes: str = "",
    treatment_session_id: int | None = None,
    recorded_by_id: int | None = None,
    view: str | None = None,
    lighting_notes: str = "",
    photo_use_consent: bool = False,
) -> ProgressEntry:
    """A progress entry; ``photo`` (JPEG or PNG bytes, or already a `PreparedPhoto`) is
    stripped of metadata and stored in the database with it (`keep_photo`).
    With a ``view`` the photo is measured (once: a `PreparedPhoto` measured for that view keeps
    its measures). ``taken_on`` after ``today`` is refused."""
    not_in_future("taken_on", taken_on, today=today)
    if view is not None:
        check_view(view)
        if photo is None:
            raise InvalidValue("photo", "none", f"a {view} view needs its photo")
    if len(lighting_notes) > _LIGHTING_NOTES_MAX:
        raise InvalidValue(
            "lighting_notes", f"{len(lighting_notes)} characters",
            f"must be at most {_LIGHTING_NOTES_MAX} characters",
        )  # fmt: skip
    client = get_client(session, client_id=client_id)
    digest: str | None = None
    measurement: dict[str, Any] | None = None
    unmeasured: str | None = None
    landmarks_px: list[list[float]] | None = None
    if photo is not None:
        prepared = photo if isinstance(photo, PreparedPhoto) else prepare_photo(photo, view=view)
        if view is not None and prepared.measurement is None and prepared.unmeasured is None:
            prepared = measure_prepared(prepared, view)  # prepared without its view
        measurement, unmeasured = prepared.measurement, prepared.unmeasured
        landmarks_px = prepared.landmarks_px
        digest = prepared.sha256
        keep_photo(session, sha256=digest, data=prepared.data, suffix=prepared.suffix)
    entry = ProgressEntry(
        client_id=client.id,
        treatment_session_id=treatment_session_id,
        taken_on=taken_on,
        photo_sha256=digest,
        ratings=_ratings(ratings or {}),
        notes=notes,
        recorded_by_id=recorded_by_id,
        view=view,
        lighting_notes=lighting_notes,
        photo_use_consent=photo_use_consent,
        measurement=measurement,
        unmeasured=unmeasured,
        landmarks_px=landmarks_px,
    )
    session.add(entry)
    session.flush()
    return entry
