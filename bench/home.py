"""The home app: its first load on a phone (HTML + CSS + JS as sent, compressed, and the time
to fetch them from the local server), and the timing of guide mode's cues in chromium over a
routine (home-express, about 5 minutes, in the full run; a 4-second routine with --quick).

Cue timing: each cue is a Web Audio beep scheduled ahead on the audio clock; the page records
how far ahead each was scheduled (``lead``; negative would be a late beep) and, when each beep
ends, how late that end is seen from the page on the audio clock (``seen late``: an upper bound
on the beep's own lateness, which includes the page's event delivery).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from microamp.protocols.home_routines import RoutinePick, build_routine
from microamp.store.home import create_home_account, save_home_routine
from microamp.web import WebSettings
from microamp.web.app import open_web_store
from microamp.web.home import create_home_app
from microamp.web.home.routines import HOME_PROFILE
from microamp.web.security import hash_password

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "heron lantern quietly"
FIRST_LOAD = ("/", "/static/home.css", "/static/home.js")
GUIDE_LOAD = ("/guide/home-express", "/static/home.css", "/static/home.js")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _signed_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60, headers={"Accept-Encoding": "gzip"})
    page = client.get("/signin").text
    token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
    client.post("/signin", data={"csrf_token": token, "password": PASSWORD})
    return client


def _load(client: httpx.Client, paths: tuple[str, ...]) -> tuple[int, float]:
    """Bytes as sent (compressed) and seconds to fetch ``paths`` one after the other."""
    started = time.perf_counter()
    sent = 0
    for path in paths:
        response = client.get(path)
        response.raise_for_status()
        sent += response.num_bytes_downloaded
    return sent, time.perf_counter() - started


def _first_load(url: str, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    client = _signed_in(url)
    try:
        for name, paths in (("today", FIRST_LOAD), ("guide", GUIDE_LOAD)):
            timings, sent = [], 0
            for _ in range(repeats):
                sent, seconds = _load(client, paths)
                timings.append(seconds * 1000)
            raw = sum(len(client.get(p, headers={"Accept-Encoding": "identity"}).content)
                      for p in paths)  # fmt: skip
            out[name] = {"compressed_kb": sent / 1000, "uncompressed_kb": raw / 1000,
                         "p50_ms": statistics.median(timings), "p95_ms": _percentile(timings, 0.95),
                         "n": repeats}  # fmt: skip
    finally:
        client.close()
    return out


def _cue_timing(url: str, routine: str) -> dict[str, Any]:
    if not CHROMIUM.exists():
        return {"skipped": "/usr/bin/chromium is absent"}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{url}/signin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/")
            page.goto(f"{url}/guide/{routine}")
            page.locator("#guide[data-ready=true]").wait_for()
            started = time.perf_counter()
            page.get_by_role("button", name="Start").click()
            page.locator("#guide[data-state=completed]").wait_for(timeout=30 * 60_000)
            wall_s = time.perf_counter() - started
            page.wait_for_timeout(500)  # the last beep's end
            found = page.evaluate(
                "() => { const d = document.getElementById('guide').dataset;"
                " return {audio: d.audio, cues: JSON.parse(d.cues || '[]'),"
                " leads: JSON.parse(d.leads || '[]'), heard: JSON.parse(d.heard || '[]')}; }"
            )
        finally:
            browser.close()
    leads, heard = found["leads"], found["heard"]
    figures: dict[str, Any] = {"routine": routine, "wall_s": wall_s, "audio": found["audio"],
                               "cues": len(found["cues"]), "heard": len(heard)}  # fmt: skip
    if leads:
        figures["lead_min_ms"] = min(leads)
    if heard:
        figures["seen_late_p50_ms"] = statistics.median(heard)
        figures["seen_late_p99_ms"] = _percentile(heard, 0.99)
        figures["seen_late_max_ms"] = max(heard)
    return figures


def run(quick: bool) -> dict[str, Any]:
    """The home app served on a scratch SQLite file, measured over HTTP and in chromium."""
    return {"home": _serve_and_measure(quick)}


def _serve_and_measure(quick: bool) -> dict[str, Any]:
    import socket
    import threading

    import uvicorn

    with tempfile.TemporaryDirectory() as tmp:
        settings = WebSettings(database_url=f"sqlite:///{Path(tmp) / 'home.db'}",
                               data_dir=Path(tmp), secret_key="b" * 40, embedded_station=False)  # fmt: skip
        store = open_web_store(settings)
        today = date.today()
        with store.transaction() as db:
            account = create_home_account(db, display_name="Bench", date_of_birth=date(1985, 1, 1),
                                          password_hash=hash_password(PASSWORD),
                                          plan_start=today, today=today)  # fmt: skip
            quick_routine = build_routine(
                name="my-quick", title="Quick", cue_interval_s=1.0, profile=HOME_PROFILE,
                picks=[RoutinePick("procerus", 2, 1.0), RoutinePick("frontalis", 1, 1.0)],
            )  # fmt: skip
            save_home_routine(db, account, name="my-quick",
                              data=quick_routine.model_dump(mode="json", exclude_none=True))  # fmt: skip
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(create_home_app(settings, store=store),
                                               log_level="warning", lifespan="on"))  # fmt: skip
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            return {
                "first_load": _first_load(url, 5 if quick else 30),
                "cue_timing": _cue_timing(url, "my-quick" if quick else "home-express"),
            }
        finally:
            server.should_exit = True
            thread.join(20)
            sock.close()
            store.close()
