"""A worker whose pool of store connections is far smaller than its request threads, under
concurrent page loads: no request is answered 500, and one that finds every connection taken is
answered 503 with Retry-After at once. A Stop is never among them: it runs on the urgent lane's
connections (`microamp.web.lanes`), so the first press takes effect, from the API and from the
console alike, and the session ends with output zero, its station recording on connections of
its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from microamp.station import StoreSessions
from microamp.store.config import load_settings
from microamp.store.db import Store, make_engine
from web.conftest import Clinic, clinic_on, csrf_of

PAGE_CLIENTS = 24
PAGES = ("/", "/clients")


def _stop_from(
    via: str, clinic: Clinic, cookies: httpx.Cookies, live_id: str, csrf: str
) -> httpx.Response:
    """One press of Stop: the API's (which returns once output is zero) or the console's (the
    live page's, with the session's CSRF token as console.js sends it)."""
    if via == "api":
        with clinic.api("practitioner") as api:
            return api.post(f"/api/v1/sessions/{live_id}/stop")
    with httpx.Client(base_url=clinic.url, cookies=cookies, timeout=30) as browser:
        return browser.post(f"/live/{live_id}/stop", headers={"x-csrf-token": csrf})


def _ended_within(store: Store, live_id: str, timeout_s: float) -> bool:
    """Whether the session's station wrote it done within ``timeout_s``, read on a connection
    of the test's own (not through the worker, whose pool the page loads keep empty)."""
    with store.apart(1, timeout_s=timeout_s) as apart:
        live = StoreSessions(apart).get(live_id)
        return live is not None and live.wait(timeout_s)


@contextmanager
def _page_rush(
    url: str, cookies: httpx.Cookies, pages: tuple[str, ...]
) -> Iterator[list[httpx.Response]]:
    """`PAGE_CLIENTS` clients loading ``pages`` in turn until the block ends; yields their
    answers once every connection is taken (and more are asking)."""
    loading = threading.Event()
    loading.set()
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def page_client(n: int) -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as client:
            while loading.is_set():
                answer = client.get(pages[n % len(pages)])
                with lock:
                    answers.append(answer)

    with ThreadPoolExecutor(PAGE_CLIENTS) as pool:
        loads = [pool.submit(page_client, n) for n in range(PAGE_CLIENTS)]
        try:
            time.sleep(1.5)
            yield answers
        finally:
            loading.clear()
        for load in loads:
            load.result()


def _signed_in_cookies(clinic: Clinic) -> httpx.Cookies:
    client = clinic.browser_client("practitioner")
    try:
        return client.cookies
    finally:
        client.close()


@pytest.mark.parametrize("via", ["api", "console"])
def test_a_tiny_pool_under_page_loads_answers_503_never_500_and_stop_takes_at_once(
    via: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROAMP_DB_POOL_SIZE", "2")
    monkeypatch.setenv("MICROAMP_DB_POOL_TIMEOUT_S", "0.2")
    with clinic_on(database_url, tmp_path, speed=1.0) as clinic:
        assert clinic.store.engine.pool.size() == 2  # type: ignore[attr-defined]
        cookies = _signed_in_cookies(clinic)
        with clinic.api("practitioner") as api:
            body = {"client_id": clinic.clients["cleared"], "protocol": "home-express"}
            started = api.post("/api/v1/sessions", json=body)
            assert started.status_code == 201, started.text
            live = started.json()
        with httpx.Client(base_url=clinic.url, cookies=cookies, timeout=30) as browser:
            csrf = csrf_of(browser.get(f"/live/{live['id']}").text)  # before the pages' rush

        with _page_rush(clinic.url, cookies, PAGES) as answers:
            stopped = _stop_from(via, clinic, cookies, live["id"], csrf)
            ended = _ended_within(clinic.store, live["id"], 10.0)

        # the first press took: never a 503 for a Stop, however busy the pages
        assert stopped.status_code == (200 if via == "api" else 204), stopped.text
        assert ended, "the session did not end after its Stop"
        statuses = {a.status_code for a in answers}
        assert statuses <= {200, 503}, [a.text[:300] for a in answers if a.status_code >= 500]
        busy = [a for a in answers if a.status_code == 503]
        # the pool really ran out: otherwise this test would show nothing
        assert busy, "no page load found the pool empty"
        assert all(a.headers["Retry-After"] == "1" for a in busy)
        assert 200 in statuses
        with clinic.api("practitioner") as api:
            record = api.get(f"/api/v1/records/{live['record_id']}").json()
        assert record["status"] == "stopped", record["status"]


def test_the_pool_follows_the_request_threads_unless_set(tmp_path: Path) -> None:
    settings = load_settings(request_threads=12, db_pool_reserve=3, data_dir=tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'sized.db'}", settings)
    try:
        assert engine.pool.size() == 15  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert load_settings(request_threads=12, db_pool_size=4).pool_size == 4


def test_her_stop_on_the_home_app_takes_at_once_while_page_loads_keep_its_pool_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home app's device page: the same lane, for her Stop on the phone."""
    from web.home_served import home_on
    from web.test_home_device import _answer, _csrf, phone_signed_up

    monkeypatch.setenv("MICROAMP_DB_POOL_SIZE", "2")
    monkeypatch.setenv("MICROAMP_DB_POOL_TIMEOUT_S", "0.2")
    with home_on(tmp_path, device=True, speed=1.0) as home:
        assert home.store.engine.pool.size() == 2  # type: ignore[attr-defined]
        with httpx.Client(base_url=home.url, timeout=30) as phone:
            token = phone_signed_up(phone)
            _answer(phone, token)
            started = phone.post("/device/home-express/start", data={"csrf_token": token})
            assert started.status_code == 303, started.text
            live_id = started.headers["location"].rsplit("/", 1)[1]
            token = _csrf(phone.get(f"/device/live/{live_id}").text)  # before the pages' rush
            cookies = phone.cookies

            with _page_rush(home.url, cookies, ("/", "/health")) as answers:
                stopped = phone.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})
                ended = _ended_within(home.store, live_id, 10.0)
    assert stopped.status_code == 303, stopped.text
    assert ended, "her session did not end after her Stop"
    busy = [a for a in answers if a.status_code == 503]
    assert busy, "no page load found the pool empty"
    assert {a.status_code for a in answers} <= {200, 503}
