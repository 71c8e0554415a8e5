"""Photos where every worker finds them: a kept photo written and read in the database (SQLite,
and PostgreSQL where MICROAMP_TEST_DATABASE_URL is set) against a content-addressed directory
that all workers would share, and what each costs on disk.

The photo is a 12-megapixel JPEG (4,000 x 3,000: scikit-image's astronaut filling the frame,
with a sensor's grain so it compresses like a photograph) prepared as an upload prepares it:
scaled to 2,048 px and re-encoded. Each way writes the kept photo under a new digest, as an
upload does (the database: one transaction with `keep_photo`; the directory: `write_private`
into ``<first two hex digits>/<digest>.jpg``), then reads it back. Best and median of the runs,
and the bytes the database or the directory grew by per photo.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.stores import sqlite_url
from microamp.store.scratch import scratch_schema

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
PHOTO_PX = (4_000, 3_000)
# quick: a phone photo's shape at a tenth of the pixels (the grain alone costs seconds at 12 MP)
QUICK_PHOTO_PX = (1_280, 960)
RUNS = 20
QUICK_RUNS = 3


def twelve_megapixels(size_px: tuple[int, int] = PHOTO_PX) -> bytes:
    """A 12 MP JPEG (or one of ``size_px``) at a phone's quality, with a real sensor's grain."""
    from skimage import data

    face = Image.fromarray(data.astronaut()).resize(size_px, Image.Resampling.BICUBIC)
    grain = np.random.default_rng(12).normal(0, 4, (size_px[1], size_px[0], 3))
    pixels = np.clip(np.asarray(face, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=92)
    return out.getvalue()


def _digest(n: int) -> str:
    return f"{n:064x}"  # a new key per run: the same photo twice would be kept once


def _timed(work: Callable[[int], object], runs: int) -> dict[str, float]:
    took = []
    for n in range(runs):
        started = time.perf_counter()
        work(n)
        took.append((time.perf_counter() - started) * 1000)
    return {"best_ms": min(took), "median_ms": statistics.median(took)}


def _directory(kept: bytes, runs: int) -> dict[str, Any]:
    from microamp.store.files import write_private

    with tempfile.TemporaryDirectory() as tmp:
        shared = Path(tmp)

        def path(n: int) -> Path:
            digest = _digest(n)
            return shared / digest[:2] / f"{digest}.jpg"

        write = _timed(lambda n: write_private(path(n), kept), runs)
        read = _timed(lambda n: path(n).read_bytes(), runs)
        on_disk = sum(p.stat().st_blocks * 512 for p in shared.rglob("*") if p.is_file())
    return {"write": write, "read": read, "bytes_per_photo": on_disk / runs}


def _stored_bytes(store: Any) -> int:
    """What the database takes on disk: the SQLite file with its WAL checkpointed into it, or
    the photo table with its TOAST on PostgreSQL."""
    from sqlalchemy import text

    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            database = Path(store.engine.url.database or "")
            return sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
        size = text("SELECT pg_total_relation_size('photo_blobs')")
        return int(connection.execute(size).scalar_one())


def _database(url: str, data_dir: Path, kept: bytes, runs: int) -> dict[str, Any]:
    from microamp.store import StoreSettings, open_store
    from microamp.store.photo_blobs import keep_photo, photo_data

    settings = StoreSettings(data_dir=data_dir, database_url=None)
    with open_store(url, settings=settings, upgrade=True) as store:
        before = _stored_bytes(store)

        def write(n: int) -> None:
            with store.transaction() as db:
                keep_photo(db, sha256=_digest(n), data=kept, suffix=".jpg")

        def read(n: int) -> None:
            with store.session() as db:
                if photo_data(db, sha256=_digest(n), legacy_path=None) is None:
                    raise RuntimeError("a kept photo was not found")

        figures: dict[str, Any] = {"write": _timed(write, runs), "read": _timed(read, runs)}
        figures["bytes_per_photo"] = (_stored_bytes(store) - before) / runs
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    from microamp.store.photos import prepare_photo

    runs = QUICK_RUNS if quick else RUNS
    upload = twelve_megapixels(QUICK_PHOTO_PX if quick else PHOTO_PX)
    kept = prepare_photo(upload).data
    result: dict[str, Any] = {
        "upload_bytes": len(upload),
        "kept_bytes": len(kept),
        "directory": _directory(kept, runs),
    }
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = sqlite_url(data_dir / "photos.db", quick)
        result["sqlite"] = _database(url, data_dir, kept, runs)
        base = os.environ.get(PG_ENV)
        if base:
            with scratch_schema(base, prefix="bench") as url:
                result["postgresql"] = _database(url, data_dir, kept, runs)
        else:
            result["postgresql"] = {"skipped": f"{PG_ENV} is not set"}
    return {"photo_storage": result}
