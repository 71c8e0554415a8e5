"""A worker whose pool of store connections is far smaller than its request threads, under
concurrent page loads: no request is answered 500. One that finds every connection taken is
answered 503 with Retry-After at once, and a Stop sent again as it says (as the console does)
takes effect: the session ends with output zero, its station recording on connections of its
own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from microamp.store.config import load_settings
from microamp.store.db import make_engine
from web.conftest import Clinic, clinic_on

PAGE_CLIENTS = 24
PAGES = ("/", "/clients")


def _stop_as_the_console_does(api: httpx.Client, live_id: str) -> tuple[httpx.Response, int]:
    """POST stop; on 503 wait its Retry-After and press again (at most 20 times)."""
    for pressed in range(1, 21):
        answer = api.post(f"/api/v1/sessions/{live_id}/stop")
        if answer.status_code != 503:
            return answer, pressed
        assert answer.headers["Retry-After"] == "1"
        time.sleep(float(answer.headers["Retry-After"]) / 4)
    raise AssertionError("Stop still refused after 20 presses")


def _signed_in_cookies(clinic: Clinic) -> httpx.Cookies:
    client = clinic.browser_client("practitioner")
    try:
        return client.cookies
    finally:
        client.close()


def test_a_tiny_pool_under_page_loads_answers_503_never_500_and_stop_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROAMP_DB_POOL_SIZE", "2")
    monkeypatch.setenv("MICROAMP_DB_POOL_TIMEOUT_S", "0.2")
    with clinic_on(f"sqlite:///{tmp_path / 'tiny.db'}", tmp_path, speed=1.0) as clinic:
        assert clinic.store.engine.pool.size() == 2  # type: ignore[attr-defined]
        cookies = _signed_in_cookies(clinic)
        with clinic.api("practitioner") as api:
            body = {"client_id": clinic.clients["cleared"], "protocol": "home-express"}
            started = api.post("/api/v1/sessions", json=body)
            assert started.status_code == 201, started.text
            live = started.json()

        loading = threading.Event()
        loading.set()
        answers: list[httpx.Response] = []
        lock = threading.Lock()

        def page_client(n: int) -> None:
            with httpx.Client(base_url=clinic.url, cookies=cookies, timeout=30) as client:
                while loading.is_set():
                    answer = client.get(PAGES[n % len(PAGES)])
                    with lock:
                        answers.append(answer)

        with ThreadPoolExecutor(PAGE_CLIENTS) as pool:
            loads = [pool.submit(page_client, n) for n in range(PAGE_CLIENTS)]
            try:
                time.sleep(1.5)  # every connection taken, and more asking
                with clinic.api("practitioner") as api:
                    stopped, pressed = _stop_as_the_console_does(api, live["id"])
            finally:
                loading.clear()
            for load in loads:
                load.result()

        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["state"]["done"]
        statuses = {a.status_code for a in answers}
        assert statuses <= {200, 503}, [a.text[:300] for a in answers if a.status_code >= 500]
        busy = [a for a in answers if a.status_code == 503]
        # the pool really ran out: otherwise this test would show nothing
        assert busy, "no page load found the pool empty"
        assert all(a.headers["Retry-After"] == "1" for a in busy)
        assert 200 in statuses
        with clinic.api("practitioner") as api:
            record = api.get(f"/api/v1/records/{live['record_id']}").json()
        assert record["status"] == "stopped", (record["status"], pressed)


def test_the_pool_follows_the_request_threads_unless_set(tmp_path: Path) -> None:
    settings = load_settings(request_threads=12, db_pool_reserve=3, data_dir=tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'sized.db'}", settings)
    try:
        assert engine.pool.size() == 15  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert load_settings(request_threads=12, db_pool_size=4).pool_size == 4
