"""Uploads: how fast a decompression bomb is refused, what a large photo costs, and whether the
server keeps answering while one is processed.

A 13,300 x 13,300 PNG of zeros (about 170 kB that would decode to 177 MB) is refused from its
header: timed in-process (`prepare_photo`) and over HTTP through ``POST
/api/v1/clients/{id}/photos`` on a uvicorn server in its own process. A large legitimate photo
(49 MP PNG; 12 MP in the quick run) is uploaded the same way while another client asks
``/healthz`` every 20 ms: the slowest of those answers says whether the event loop was held.
"""

from __future__ import annotations

import io
import struct
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench.stores import sqlite_url
from bench.web import _seed, _server

BOMB_SIDE_PX = 13_300
LARGE_SIDE_PX = 7_000  # 49 MP: just under the 50 MP limit
QUICK_LARGE_PX = (4_000, 3_000)
RUNS = 5


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side_px: int = BOMB_SIDE_PX) -> bytes:
    """A valid greyscale PNG of zeros, ``side_px`` square."""
    packer = zlib.compressobj(9)
    row = b"\0" * (side_px + 1)
    data = b"".join(packer.compress(row) for _ in range(side_px)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side_px, side_px, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
    )


def _gradient(kind: str, size_px: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size_px).convert("RGB").save(out, format=kind)
    return out.getvalue()


def _best_ms(work: Any, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _refuse(bomb: bytes) -> None:
    from microamp.errors import InvalidValue
    from microamp.store.photos import prepare_photo

    try:
        prepare_photo(bomb)
    except InvalidValue:
        return
    raise RuntimeError("the bomb was not refused")


def _upload(api: httpx.Client, client_id: int, content: bytes) -> httpx.Response:
    return api.post(
        f"/api/v1/clients/{client_id}/photos", files={"photo": ("p.png", content, "image/png")}
    )


def _beside_an_upload(base: str, token: str, client_id: int, large: bytes) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    finished = threading.Event()
    took: dict[str, float] = {}

    def upload() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as api:
            started = time.perf_counter()
            response = _upload(api, client_id, large)
            took["upload_s"] = time.perf_counter() - started
            took["status"] = response.status_code
        finished.set()

    waits: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as probe:
        probe.get("/healthz")
        thread = threading.Thread(target=upload)
        thread.start()
        while not finished.wait(0.02):
            started = time.perf_counter()
            probe.get("/healthz")
            waits.append((time.perf_counter() - started) * 1000)
        thread.join()
    if took.get("status") != 201:
        raise RuntimeError(f"the large upload answered {took.get('status')}")
    return {
        "upload_s": took["upload_s"],
        "requests_beside": len(waits),
        "slowest_beside_ms": max(waits) if waits else None,
    }


def run(quick: bool = False) -> dict[str, Any]:
    runs = 1 if quick else RUNS
    bomb = png_bomb()
    size = QUICK_LARGE_PX if quick else (LARGE_SIDE_PX, LARGE_SIDE_PX)
    large = _gradient("PNG", size)
    jpeg_12mp = _gradient("JPEG", (4_000, 3_000))
    from microamp.store.photos import prepare_photo

    result: dict[str, Any] = {
        "bomb_bytes": len(bomb),
        "bomb_pixels": BOMB_SIDE_PX**2,
        "bomb_refused_in_process_ms": _best_ms(lambda: _refuse(bomb), runs),
        "jpeg_12mp_prepared_ms": _best_ms(lambda: prepare_photo(jpeg_12mp), runs),
        "large_pixels": size[0] * size[1],
    }
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = sqlite_url(data_dir / "uploads.db", quick)
        client_id, token = _seed(url, data_dir)
        with _server("app", url, str(data_dir), quick=quick) as base:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:

                def refused_over_http() -> None:
                    if _upload(api, client_id, bomb).status_code != 422:
                        raise RuntimeError("the bomb was not refused over HTTP")

                result["bomb_refused_over_http_ms"] = _best_ms(refused_over_http, runs)
            result |= _beside_an_upload(base, token, client_id, large)
    return {"uploads": result}
