"""Measured results: what one photo costs to measure, and what a client's outcome page costs.

- Landmarks and measures of one 12-megapixel photo (scikit-image's astronaut upscaled into a
  4,000 x 3,000 canvas) on one CPU core: a process of its own pinned to one core, the model
  loaded and warmed first, then the best and median of several runs of `measure_image` (the
  work an upload adds) and of `prepare_photo` with a view (the whole upload: decode, scale to
  the stored size, measure, re-encode a JPEG). Goal: under 1 s.
- The outcome page of a client with 200 measured front photos (measures stored, as uploads
  leave them) and 40 sessions attended, asked one request at a time from a uvicorn server in
  its own process: p50 and p95 over the requests. Goal: under 300 ms.

Without ``microamp[vision]`` the photo figures say so; the page is still measured (its
measures are stored, not computed).
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.stores import sqlite_url
from bench.web import ROOT, SECRET_KEY, Load, _load, _seed, _server, _signed_in

PHOTO_GOAL_S = 1.0
PAGE_GOAL_MS = 300.0
CANVAS_PX = (4_000, 3_000)  # 12 MP, a phone's usual frame
QUICK_CANVAS_PX = (1_600, 1_200)
PHOTO_RUNS = 5
PAGE_PHOTOS = 200
QUICK_PAGE_PHOTOS = 6
PAGE_SESSIONS = 40
PAGE_LOAD = Load(concurrency=1, duration_s=15.0)
QUICK_PAGE_LOAD = Load(concurrency=1, duration_s=0.1, quick=True)

# run in a process of its own, pinned to one core before anything is imported
_PHOTO = """
import io, json, os, statistics, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
width, height, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
from PIL import Image
from skimage import data
from microamp.store.photos import prepare_photo
from microamp.vision.photo import measure_image
face = Image.fromarray(data.astronaut())
side = height * 4 // 5
canvas = Image.new("RGB", (width, height), (128, 128, 128))
canvas.paste(face.resize((side, side), Image.Resampling.BICUBIC), ((width - side) // 2, (height - side) // 2))
out = io.BytesIO()
canvas.save(out, format="JPEG", quality=92)
jpeg = out.getvalue()
measure_image(canvas)  # the model loaded and warmed: a server does this once
def timed(work):
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
    return {"best_s": min(took), "median_s": statistics.median(took)}
measured, _ = measure_image(canvas)
print(json.dumps({
    "pixels": width * height,
    "cores": len(os.sched_getaffinity(0)),
    "iris_diameter_px": measured.iris_diameter_px,
    "measure_image": timed(lambda: measure_image(canvas)),
    "upload_prepared_and_measured": timed(lambda: prepare_photo(jpeg, view="front")),
}))
"""


def _start_photo_timing(quick: bool) -> Callable[[], dict[str, Any]]:
    """The photo's timing started in its process; returns what waits for its figures."""
    from microamp.vision.landmarks import vision_available

    if not vision_available():
        return lambda: {"skipped": "microamp[vision] is not installed"}
    width, height = QUICK_CANVAS_PX if quick else CANVAS_PX
    runs = 1 if quick else PHOTO_RUNS
    process = subprocess.Popen(
        [sys.executable, "-c", _PHOTO, str(width), str(height), str(runs)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def figures() -> dict[str, Any]:
        try:
            out, err = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, process.args, out, err)
        timed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return timed | {"goal_s": PHOTO_GOAL_S}

    return figures


def _stored_measurement(measured: bool) -> tuple[dict[str, Any], list[list[float]]]:
    """What an upload of the astronaut leaves in the store (``measured`` once here): measures
    and landmarks; without the landmark model (or ``measured`` false: the quick run spares
    this process loading it), fixed ones of the same shape."""
    from microamp.vision.landmarks import vision_available
    from microamp.vision.measures import MEASURE_NAMES

    if measured and vision_available():
        from PIL import Image
        from skimage import data

        from microamp.vision.photo import measure_image

        face = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.BICUBIC)
        measurement, landmarks = measure_image(face)
        return measurement.as_dict(), [[round(x, 1), round(y, 1)] for x, y in landmarks.xy()]
    document = {
        "view": "front", "measures": dict.fromkeys(MEASURE_NAMES, 20.0),
        "pose": {"yaw_deg": 0.0, "pitch_deg": 0.0, "roll_deg": 0.0}, "quality": 0.9,
        "scale": {"source": "iris", "mm_per_px": 0.7, "iris_diameter_px": 16.5},
        "comparable": True, "flags": [],
    }  # fmt: skip
    return document, [[500.0, 500.0]] * 478


def _seed_photos(url: str, data_dir: Path, client_id: int, photos: int, quick: bool) -> None:
    """``photos`` front photos, two a visit, with the measures of one real photo wobbling by a
    few tenths, and `PAGE_SESSIONS` sessions attended between the visits."""
    from PIL import Image
    from skimage import data

    from microamp.store.photos import PreparedPhoto, add_progress_entry, prepare_photo
    from microamp.store.session_models import TreatmentSession
    from microamp.web import WebSettings
    from microamp.web.app import open_web_store

    out = io.BytesIO()
    Image.fromarray(data.astronaut()).save(out, format="JPEG", quality=90)
    kept = prepare_photo(out.getvalue())
    document, landmarks_px = _stored_measurement(measured=not quick)
    wobble = random.Random(15)
    first_day = date.today() - timedelta(days=photos)
    store = open_web_store(WebSettings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY))
    try:
        with store.transaction() as db:
            for n in range(PAGE_SESSIONS):
                started = datetime.now(UTC) - timedelta(days=photos - n * photos // PAGE_SESSIONS)
                db.add(TreatmentSession(
                    client_id=client_id, protocol_name="bench", status="completed",
                    started_at=started, dose_by_zone={
                        "forehead": {"zone": "forehead", "charge_uc": 1200.0},
                        "jawline": {"zone": "jawline", "charge_uc": 800.0}},
                ))  # fmt: skip
            for n in range(photos):
                measures = {
                    k: round(v + wobble.uniform(-0.3, 0.3), 2)
                    for k, v in document["measures"].items()
                }
                photo: PreparedPhoto = replace(
                    kept, measurement=document | {"measures": measures}, landmarks_px=landmarks_px
                )
                add_progress_entry(
                    db, client_id=client_id, taken_on=first_day + timedelta(days=n // 2 * 2),
                    today=date.today(), photo=photo,
                    view="front", photo_use_consent=True,
                )  # fmt: skip
    finally:
        store.close()


def _outcome_page(quick: bool) -> dict[str, Any]:
    photos = QUICK_PAGE_PHOTOS if quick else PAGE_PHOTOS
    load = QUICK_PAGE_LOAD if quick else PAGE_LOAD
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = sqlite_url(data_dir / "outcomes.db", quick)
        client_id, _token = _seed(url, data_dir)
        _seed_photos(url, data_dir, client_id, photos, quick)
        with _server("app", url, str(data_dir), quick=quick) as base:
            cookies = _signed_in(base)
            path = f"/clients/{client_id}/outcomes"
            with httpx.Client(base_url=base, cookies=cookies) as warm:
                first = warm.get(path)
                if first.status_code != 200 or "Measured results" not in first.text:
                    raise RuntimeError(f"the outcome page answered {first.status_code}")
            figures = asyncio.run(_load(load, base, path, {}, cookies))
    return figures | {"photos": photos, "sessions": PAGE_SESSIONS, "goal_ms": PAGE_GOAL_MS}


def run(quick: bool = False) -> dict[str, Any]:
    photo_timing = _start_photo_timing(quick)
    # the full run times the photo alone, on a quiet machine; the quick run (its figures not
    # for quoting) seeds and serves the outcome page meanwhile
    photo = None if quick else photo_timing()
    page = _outcome_page(quick)
    if photo is None:
        photo = photo_timing()
    return {"vision": {"photo_12mp": photo, "outcome_page": page}}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
