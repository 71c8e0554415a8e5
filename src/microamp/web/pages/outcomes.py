"""Measured results: the outcome page (each measure over time beside the dose, with its
error band; CSV), the comparison view (a photo registered to the first of its view: side by
side, fade, flicker, landmarks) and standardised capture (the camera with the first photo as
a ghost; the server judges each frame and keeps only one within the pose and distance
tolerance)."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from PIL import Image
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, NotFound
from microamp.store.crud import get_client
from microamp.store.models import ProgressEntry, User
from microamp.store.outcomes import Outcomes, client_outcomes, client_photos, outcomes_csv
from microamp.store.photo_blobs import entry_photo
from microamp.store.photos import PreparedPhoto, header_size
from microamp.vision.align import STABLE_POINTS, similarity
from microamp.vision.landmarks import vision_available
from microamp.vision.measures import MEASURE_NAMES, VIEWS, check_view
from microamp.vision.sticker import STICKER_SIDE_MM, sticker_svg
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import field_errors
from microamp.web.outcome_charts import measure_svg
from microamp.web.render import page
from microamp.web.uploads import read_photo, save_progress

router = APIRouter(dependencies=[CsrfChecked])

VIEW_LABELS = {"front": "Front", "left45": "Left 45°", "right45": "Right 45°"}
_LABELS = {
    "brow_height_left_mm": "Brow height, left",
    "brow_height_right_mm": "Brow height, right",
    "palpebral_fissure_left_mm": "Eye opening, left",
    "palpebral_fissure_right_mm": "Eye opening, right",
    "commissure_height_left_mm": "Mouth corner below the pupils, left",
    "commissure_height_right_mm": "Mouth corner below the pupils, right",
    "lower_face_width_mm": "Lower-face width",
    "jawline_angle_left_deg": "Jawline angle, left",
    "jawline_angle_right_deg": "Jawline angle, right",
    "jowl_depth_left_mm": "Jowl depth, left",
    "jowl_depth_right_mm": "Jowl depth, right",
    "brow_symmetry_pct": "Brow symmetry",
    "palpebral_symmetry_pct": "Eye-opening symmetry",
    "commissure_symmetry_pct": "Mouth-corner symmetry",
}
# a capture whose face is this much larger or smaller than the first photo's was taken nearer
# or farther: the perspective differs, so it is retaken rather than compared
_DISTANCE_TOLERANCE = 0.15
CAPTURE_LABELS = {
    "photo": "Photo",
    "view": "View",
    "lighting_notes": "Lighting notes",
    "taken_on": "Taken on",
    "photo_use_consent": "Photo-use consent",
}
CONSENT_RULE = "the client must agree to this photo being kept and compared"


def _unit(name: str) -> str:
    return "deg" if name.endswith("_deg") else "%" if name.endswith("_pct") else "mm"


def _view(value: str) -> str:
    return check_view(value)


def measure_charts(found: Outcomes) -> list[dict[str, Any]]:
    session_days = [date.fromisoformat(s["on"]) for s in found.sessions]
    charts = []
    for trend in found.trends:
        points = [
            (p.taken_on, p.measures[trend.name], p.comparable)
            for p in found.photos
            if trend.name in p.measures
        ]
        label = _LABELS[trend.name]
        charts.append({
            "name": trend.name,
            "label": label,
            "unit": _unit(trend.name),
            "trend": trend,
            "svg": measure_svg(
                label=label, unit=_unit(trend.name), points=points, baseline=trend.baseline,
                error=trend.error, session_days=session_days, summary=trend.verdict,
            ),
        })  # fmt: skip
    return charts


@router.get("/outcomes/sticker.svg")
def sticker(user: PageUser) -> Response:
    """The calibration sticker to print at 100 % (docs/measuring-results.md)."""
    return Response(
        sticker_svg(),
        media_type="image/svg+xml",
        headers={"Content-Disposition": 'inline; filename="microamp-sticker.svg"'},
    )


@router.get("/clients/{client_id}/outcomes")
def outcomes_page(
    request: Request, user: PageUser, db: DbDep, client_id: RowId, view: str = "front"
) -> Response:
    found = client_outcomes(db, client_id=client_id, view=_view(view))
    client = get_client(db, client_id=client_id)
    audit(db, user, "read", f"client:{client_id}/outcomes", client_id=client_id)
    cumulative: dict[str, float] = {}
    sessions = []
    for item in found.sessions:
        for zone, value in item["charge_uc_by_zone"].items():
            cumulative[zone] = cumulative.get(zone, 0.0) + value
        sessions.append(item | {"cumulative": dict(cumulative)})
    return page(
        request, "outcomes.html", user, client=client, found=found, view=found.view,
        views=VIEWS, view_labels=VIEW_LABELS, charts=measure_charts(found), labels=_LABELS,
        sessions=sessions, measure_names=MEASURE_NAMES, vision=vision_available(),
        sticker_side_mm=STICKER_SIDE_MM,
    )  # fmt: skip


@router.get("/clients/{client_id}/outcomes.csv")
def outcomes_export(user: PageUser, db: DbDep, client_id: RowId, view: str = "front") -> Response:
    found = client_outcomes(db, client_id=client_id, view=_view(view))
    audit(db, user, "read", f"client:{client_id}/outcomes", client_id=client_id, format="csv")
    return Response(
        outcomes_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="outcomes-{client_id}-{found.view}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _of_view(db: Session, client_id: int, view: str) -> list[ProgressEntry]:
    return [e for e in client_photos(db, client_id=client_id) if e.view == view and e.measurement]


def _comparable(entries: list[ProgressEntry]) -> list[ProgressEntry]:
    return [e for e in entries if (e.measurement or {}).get("comparable")]


def _baseline(entries: list[ProgressEntry]) -> ProgressEntry | None:
    comparable = _comparable(entries)
    return comparable[0] if comparable else None


def latest_comparable(db: Session, *, client_id: int, view: str) -> ProgressEntry | None:
    """The client's newest comparable photo of ``view``: the ghost a capture at home lines up
    with (the clinic's capture shows the first)."""
    comparable = _comparable(_of_view(db, client_id, view))
    return comparable[-1] if comparable else None


def _landmarks(entry: ProgressEntry) -> list[list[float]]:
    return list(entry.landmarks_px or [])


def _stable(entry: ProgressEntry) -> Any:
    import numpy as np

    points = np.asarray(_landmarks(entry), dtype=np.float64)
    return points[list(STABLE_POINTS)]


@router.get("/clients/{client_id}/compare")
def compare(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    view: str = "front",
    entry: int | None = None,
) -> Response:
    client = get_client(db, client_id=client_id)
    entries = _of_view(db, client_id, _view(view))
    baseline = _baseline(entries)
    others = [e for e in entries if baseline is None or e.id != baseline.id]
    chosen = next((e for e in others if e.id == entry), others[-1] if others else None)
    overlay: list[list[float]] = []
    size = (0, 0)
    kept = _image(db, baseline) if baseline is not None else None
    if baseline is not None and kept is not None:
        size = kept.size
        overlay = _landmarks(baseline)
    audit(db, user, "read", f"client:{client_id}/photo", client_id=client_id, compare=view)
    return page(
        request, "compare.html", user, client=client, view=view, views=VIEWS,
        view_labels=VIEW_LABELS, baseline=baseline, chosen=chosen, others=others,
        size=size, overlay=overlay[:468:3],
    )  # fmt: skip


@router.get("/clients/{client_id}/progress/{entry_id}/aligned")
def aligned_photo(user: PageUser, db: DbDep, client_id: RowId, entry_id: RowId) -> Response:
    """The photo carried into the frame of the first comparable photo of its view (a
    similarity from the landmarks that expression barely moves), as a JPEG of that size."""
    entry = db.get(ProgressEntry, entry_id)
    photo = _image(db, entry) if entry is not None and entry.client_id == client_id else None
    if entry is None or photo is None or not entry.view:
        raise NotFound(f"no photo {entry_id} for client {client_id}")
    baseline = _baseline(_of_view(db, client_id, entry.view))
    first = _image(db, baseline) if baseline is not None else None
    if baseline is None or first is None or not _landmarks(entry):
        raise NotFound(f"photo {entry_id} has no measured first photo to be aligned to")
    onto_baseline = similarity(_stable(entry), _stable(baseline))
    # PIL maps each output pixel back to its source: the inverse transform
    inverse = onto_baseline.inverse().matrix()
    moved = photo.convert("RGB").transform(
        first.size, Image.Transform.AFFINE, tuple(inverse.ravel()), Image.Resampling.BICUBIC
    )
    out = io.BytesIO()
    moved.save(out, format="JPEG", quality=90)
    audit(db, user, "read", f"client:{client_id}/photo", client_id=client_id, entry_id=entry_id)
    return Response(out.getvalue(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _capture_page(
    request: Request,
    user: User,
    db: Session,
    client_id: int,
    view: str,
    *,
    errors: list[Any] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    client = get_client(db, client_id=client_id)
    baseline = _baseline(_of_view(db, client_id, view))
    return page(
        request, "capture.html", user, status_code=status_code, client=client, view=view,
        views=VIEWS, view_labels=VIEW_LABELS, baseline=baseline, errors=errors or [],
        typed=typed or {}, today=date.today(), vision=vision_available(),
        sticker_side_mm=STICKER_SIDE_MM,
    )  # fmt: skip


@router.get("/clients/{client_id}/capture")
def capture(
    request: Request, user: PageUser, db: DbDep, client_id: RowId, view: str = "front"
) -> Response:
    return _capture_page(request, user, db, client_id, _view(view))


def _retakes(db: Session, client_id: int, view: str, prepared: PreparedPhoto) -> list[str]:
    """Why this frame may not be kept: the pose outside tolerance, a face nearer or farther
    than the first photo's, no face at all."""
    if prepared.measurement is None:
        return [prepared.unmeasured or "the photo could not be measured"]
    reasons = list(prepared.measurement.get("flags", []))
    baseline = _baseline(_of_view(db, client_id, view))
    if baseline is not None and baseline.measurement is not None:
        first = baseline.measurement["scale"]["iris_diameter_px"] / _width(db, baseline)
        now = prepared.measurement["scale"]["iris_diameter_px"] / max(1, prepared.width_px)
        ratio = now / first
        if ratio > 1 + _DISTANCE_TOLERANCE:
            reasons.append(
                f"the face is {ratio - 1:.0%} larger than in the first photo: step back, retake"
            )
        elif ratio < 1 - _DISTANCE_TOLERANCE:
            reasons.append(
                f"the face is {1 - ratio:.0%} smaller than in the first photo: come closer, retake"
            )
    return reasons


def _width(db: Session, entry: ProgressEntry) -> int:
    """The kept photo's width in pixels, from its header (nothing decoded)."""
    stored = entry_photo(db, entry)
    size = header_size(stored.data) if stored is not None else None
    return max(1, size[0]) if size is not None else 1


def _image(db: Session, entry: ProgressEntry) -> Image.Image | None:
    """The photo kept with ``entry``, decoded, or None when it has none (or it is lost)."""
    stored = entry_photo(db, entry)
    if stored is None:
        return None
    with Image.open(io.BytesIO(stored.data)) as kept:
        kept.load()
        return kept


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def judge_capture(
    db: Session,
    *,
    client_id: int,
    view: str,
    photo_use_consent: bool,
    photo: UploadFile | None,
    consent_rule: str = CONSENT_RULE,
) -> tuple[str, PreparedPhoto]:
    """A captured frame (or a chosen file) checked as every standardised capture is, at the
    clinic and at home: the view, the photo-use consent, the photo itself (size, megapixels, a
    JPEG or PNG), then measured and within the pose and distance tolerance of the first
    comparable photo. Returns the view and the prepared photo; raises `InvalidValue` naming
    the field (``retake`` reasons under ``photo``; ``consent_rule`` says who must agree)."""
    checked_view = _view(view)
    if not photo_use_consent:
        raise InvalidValue("photo_use_consent", "not given", consent_rule)
    prepared = await read_photo(photo, view=checked_view)
    if prepared is None:
        raise InvalidValue("photo", "none", "take a photo with the camera or choose a file")
    retakes = _retakes(db, client_id, checked_view, prepared)
    if retakes:
        raise InvalidValue("photo", "this frame", "; ".join(retakes))
    return checked_view, prepared


def capture_refused(exc: InvalidValue) -> JSONResponse:
    """The capture script's answer to a refused frame: the field and why."""
    label = CAPTURE_LABELS.get(exc.field, exc.field)
    return JSONResponse(
        {"kept": False, "field": exc.field, "label": label, "retake": exc.rule}, status_code=422
    )


def capture_kept(entry: ProgressEntry, prepared: PreparedPhoto) -> JSONResponse:
    """The capture script's answer to a kept frame: its measures, pose and quality."""
    assert prepared.measurement is not None  # judge_capture keeps measured frames only
    return JSONResponse(
        {"kept": True, "entry_id": entry.id, "measures": prepared.measurement["measures"],
         "pose": prepared.measurement["pose"], "quality": prepared.measurement["quality"],
         "scale_source": prepared.measurement["scale"]["source"]},
        status_code=201,
    )  # fmt: skip


@router.post("/clients/{client_id}/capture")
async def capture_save(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    view: Annotated[str, Form()] = "front",
    lighting_notes: Annotated[str, Form(max_length=500)] = "",
    photo_use_consent: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    typed = {"view": view, "lighting_notes": lighting_notes, "photo_use_consent": photo_use_consent}
    get_client(db, client_id=client_id)
    try:
        checked_view, prepared = await judge_capture(
            db, client_id=client_id, view=view, photo_use_consent=bool(photo_use_consent),
            photo=photo,
        )  # fmt: skip
    except InvalidValue as exc:
        if _wants_json(request):
            return capture_refused(exc)
        errors = field_errors(exc, CAPTURE_LABELS)
        safe_view = view if view in VIEWS else "front"
        return _capture_page(
            request, user, db, client_id, safe_view, errors=errors, typed=typed, status_code=422
        )
    entry = save_progress(
        db, user, client_id=client_id, taken_on=date.today(), photo=prepared,
        notes="standardised capture", view=checked_view, lighting_notes=lighting_notes,
        photo_use_consent=True,
    )  # fmt: skip
    if _wants_json(request):
        return capture_kept(entry, prepared)
    return RedirectResponse(f"/clients/{client_id}/outcomes?view={checked_view}", status_code=303)
