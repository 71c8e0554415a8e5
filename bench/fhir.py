"""The FHIR export of one client: the Bundle of a client with 50 sessions over five zones each,
50 visits, two intake versions, a consent and four photos with their measures, built from
SQLite and checked by `fhir.resources` (what ``$everything`` and ``microamp export fhir`` do):
the time (median of repeats), the part of it reading and building the resources takes (the rest
is the R4B model check), and the size of the JSON, with the photos' share of it. Then
``GET /api/v1/fhir/Patient/{id}/$everything`` of the same client from a server in its own
process, asked by several clients at once for a while: the latency percentiles under that load."""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

ZONES = ("forehead", "cheeks", "jawline", "chin", "neck")
MEASURES = {"brow_height_left_mm": 21.4, "brow_height_right_mm": 21.1,
            "jawline_angle_left_deg": 128.0, "brow_symmetry_pct": 3.0}  # fmt: skip


def _photo(seed: int) -> bytes:
    """A 1200 x 900 JPEG of noise over a gradient: the size of a kept phone photo."""
    rng = np.random.default_rng(seed)
    base = np.linspace(90, 200, 1200)[None, :, None] * np.ones((900, 1, 3))
    pixels = np.clip(base + rng.normal(0, 18, (900, 1200, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


# the full run asks for the Bundle 4 at a time for 30 s: each answer is about a second of one
# core, so that is a queue of four on a two-core machine and some 60 answers to rank
EVERYTHING_LOAD = (4, 30.0)
EVERYTHING_QUICK = (2, 0.3)


def _seed(store: Any, sessions: int, photos: int) -> tuple[int, str]:
    """The client and an API token of the clinic's owner."""
    from microamp.clinic.intake import nothing_to_report
    from microamp.store import SessionRecorder
    from microamp.store.access import create_api_token
    from microamp.store.crud import create_client, create_user, record_consent, record_intake
    from microamp.store.models import Appointment
    from microamp.store.photos import add_progress_entry

    today, born = date.today(), date(1979, 6, 1)
    with store.transaction() as db:
        user = create_user(db, email="bench@fhir.example", display_name="Bench", role="owner")
        client = create_client(db, full_name="Bench Client", date_of_birth=born)
        for diabetes in (False, True):
            record_intake(db, client_id=client.id, answers=nothing_to_report(born, diabetes=diabetes),
                          on=today, today=today, recorded_by_id=user.id)  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Bench Client")
        first = datetime.combine(today - timedelta(days=sessions * 3), datetime.min.time(), UTC)
        for n in range(sessions):
            starts = first + timedelta(days=3 * n, hours=10)
            db.add(Appointment(client_id=client.id, on_date=starts.date(), state="completed",
                               practitioner_id=user.id, starts_at=starts,
                               ends_at=starts + timedelta(minutes=45),
                               clear_at=starts + timedelta(minutes=60)))  # fmt: skip
        ids = (client.id, user.id)
        token = create_api_token(db, user_id=user.id, name="bench")[1]
    rng = np.random.default_rng(7)
    for _ in range(sessions):
        dose = {}
        for zone in ZONES:
            seconds = float(rng.uniform(60, 240))
            current = float(rng.uniform(150, 400))
            dose[zone] = {"zone": zone, "charge_uc": current * seconds, "stimulation_s": seconds,
                          "mean_current_ua": current,
                          "mean_impedance_ohm": float(rng.uniform(8_000, 15_000))}  # fmt: skip
        recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids[0],
                                         practitioner_id=ids[1], device_url="sim://?load=gel")  # fmt: skip
        recorder.finish("completed", dose_by_zone=dose)
    with store.transaction() as db:
        for n in range(photos):
            entry = add_progress_entry(db, client_id=ids[0], taken_on=today - timedelta(days=n),
                                       today=today, photo=_photo(n))  # fmt: skip
            entry.view = "front"
            entry.measurement = {"view": "front", "measures": MEASURES, "flags": []}
    return ids[0], token


def _everything_under_load(
    url: str, data_dir: Path, client_id: int, token: str, quick: bool
) -> dict[str, Any]:
    from bench.web import Load, _load, _server

    concurrency, seconds = EVERYTHING_QUICK if quick else EVERYTHING_LOAD
    with _server("app", url, str(data_dir), quick=quick) as base:
        figures = asyncio.run(
            _load(Load(concurrency=concurrency, duration_s=seconds), base,
                  f"/api/v1/fhir/Patient/{client_id}/$everything",
                  {"Authorization": f"Bearer {token}"}, httpx.Cookies())
        )  # fmt: skip
    return {"concurrency": concurrency, "duration_s": seconds, **figures}


def run(quick: bool = False) -> dict[str, Any]:
    from bench.stores import sqlite_url
    from bench.web import SECRET_KEY
    from microamp.store.crud import get_client
    from microamp.store.fhir import _client_resources, client_bundle
    from microamp.web import WebSettings
    from microamp.web.app import open_web_store

    sessions, photos, repeats = (5, 1, 2) if quick else (50, 4, 7)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = sqlite_url(data_dir / "fhir.db", quick)
        # signed with the bench servers' key, so that the server started below may open it
        store = open_web_store(
            WebSettings(database_url=url, data_dir=data_dir, secret_key=SECRET_KEY)
        )
        try:
            client_id, token = _seed(store, sessions, photos)
            export_s, build_s = [], []
            for _ in range(repeats):
                with store.transaction() as db:
                    started = time.perf_counter()
                    bundle = client_bundle(db, client_id=client_id)
                    export_s.append(time.perf_counter() - started)
                with store.transaction() as db:
                    # the same resources, read and built but not checked
                    started = time.perf_counter()
                    client = get_client(db, client_id=client_id)
                    list(_client_resources(db, client, include_audit=False))
                    build_s.append(time.perf_counter() - started)
        finally:
            store.close()
        under_load = _everything_under_load(url, data_dir, client_id, token, quick)
    text = json.dumps(bundle, ensure_ascii=False)
    media = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
    photo_bytes = sum(len(m["content"].get("data", "")) for m in media)
    kinds: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "fhir": {
            "sessions": sessions,
            "zones_per_session": len(ZONES),
            "photos": photos,
            "repeats": repeats,
            "export_ms": statistics.median(export_s) * 1000,
            "build_ms": statistics.median(build_s) * 1000,
            "bytes": len(text.encode("utf-8")),
            "photo_bytes": photo_bytes,
            "resources": len(bundle["entry"]),
            "resources_by_type": kinds,
            "everything_under_load": under_load,
        }
    }
