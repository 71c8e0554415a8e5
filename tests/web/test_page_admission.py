"""A worker's page admission: at most its limit of requests other than Stops run in the app at
once, each until its response starts; the rest wait their turn and a Stop walks past them.
Driven through a plain ASGI app whose pages hold until the test lets them go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.web.lanes import PageAdmission

STOP = "/api/v1/sessions/ab12/stop"


class HeldPages:
    """An ASGI app: ``/page`` answers once ``release`` is set, ``/stream`` starts its response
    at once and ends it on ``release``; any other path answers at once. It counts who is in."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.inside = 0
        self.most_inside = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            if scope["path"] == "/stream":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await self.release.wait()
                await send({"type": "http.response.body", "body": b"end"})
                return
            if scope["path"] == "/page":
                await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["path"].encode()})
        finally:
            self.inside -= 1


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _until(check: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not check():
            await anyio.sleep(0.001)


def _run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_no_more_pages_than_the_limit_run_at_once_and_every_one_is_answered(limit: int) -> None:
    async def scenario() -> None:
        pages = HeldPages()
        gate = PageAdmission(pages, limit=limit)
        answers: list[int] = []
        async with _client(gate) as client, anyio.create_task_group() as tasks:

            async def load() -> None:
                answers.append((await client.get("/page")).status_code)

            for _ in range(limit + 3):
                tasks.start_soon(load)
            await _until(lambda: gate.admitted == limit)
            await anyio.sleep(0.05)  # the others had every chance to get in
            assert pages.inside == limit
            pages.release.set()
        assert answers == [200] * (limit + 3)
        assert pages.most_inside == limit
        assert gate.admitted == 0

    _run(scenario)


@settings(max_examples=20, deadline=None)
@given(limit=st.integers(1, 4), extra=st.integers(0, 6))
def test_a_stop_is_answered_while_every_place_is_held(limit: int, extra: int) -> None:
    async def scenario() -> None:
        pages = HeldPages()
        gate = PageAdmission(pages, limit=limit)
        async with _client(gate) as client, anyio.create_task_group() as tasks:
            for _ in range(limit + extra):
                tasks.start_soon(client.get, "/page")
            await _until(lambda: gate.admitted == limit)
            with anyio.fail_after(2):
                stopped = await client.post(STOP)
            assert (stopped.status_code, stopped.text) == (200, STOP)
            assert gate.admitted == limit  # the Stop took no place
            pages.release.set()

    _run(scenario)


def test_a_stop_read_or_another_control_waits_its_turn_like_a_page() -> None:
    async def scenario() -> None:
        pages = HeldPages()
        gate = PageAdmission(pages, limit=1)
        async with _client(gate) as client, anyio.create_task_group() as tasks:
            tasks.start_soon(client.get, "/page")
            await _until(lambda: gate.admitted == 1)
            done: list[str] = []

            async def control(method: str, path: str) -> None:
                await client.request(method, path)
                done.append(path)

            tasks.start_soon(control, "GET", STOP)
            tasks.start_soon(control, "POST", "/api/v1/sessions/ab12/pause")
            await anyio.sleep(0.05)
            assert done == []
            pages.release.set()
        assert sorted(done) == sorted([STOP, "/api/v1/sessions/ab12/pause"])

    _run(scenario)


def test_a_started_stream_gives_its_place_to_the_next_page() -> None:
    """Driven by ASGI messages, not httpx: its in-process transport reads a whole answer
    before handing any of it back, so a stream held open would never show its start."""

    async def scenario() -> None:
        pages = HeldPages()
        gate = PageAdmission(pages, limit=1)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        def scope(path: str) -> dict[str, Any]:
            return {"type": "http", "method": "GET", "path": path, "headers": []}

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(gate, scope("/stream"), receive, send)
            await _until(lambda: any(m["type"] == "http.response.start" for m in sent))
            assert gate.admitted == 0  # its response has started: its place is free
            quick: list[dict[str, Any]] = []

            async def send_quick(message: dict[str, Any]) -> None:
                quick.append(message)

            with anyio.fail_after(2):
                await gate(scope("/quick"), receive, send_quick)
            assert quick[-1]["body"] == b"/quick"
            assert pages.inside == 1  # the stream, still open
            pages.release.set()
        assert sent[-1]["body"] == b"end" and gate.admitted == 0

    _run(scenario)


def test_a_page_that_fails_gives_its_place_back() -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("the page broke before answering")

    async def scenario() -> None:
        gate = PageAdmission(broken, limit=1)
        async with _client(gate) as client:
            for _ in range(3):
                with pytest.raises(RuntimeError, match="broke"):
                    await client.get("/page")
                assert gate.admitted == 0

    _run(scenario)


def test_a_limit_below_one_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="limit must be at least 1, not 0"):
        PageAdmission(HeldPages(), limit=0)
