"""The clinic layout under load, on PostgreSQL: `microamp serve --workers N` in processes of
their own, a station (in this process, so its device's output can be watched), and a load
generator in a process of its own (`bench.load_client`, concurrent page clients).

- pages per second with 1, 2 and 4 workers (no session running): the scaling curve;
- with 4 workers and the load on: Stop (a POST on a new connection, so through any worker) to
  zero output at the station; a device event (pause, resume, the runner's own) to the browser's
  live stream (server-sent events, read on a signed-in connection); and the simulated session's
  real-time ratio (device seconds per wall second, at speed 1). Six rounds measure all three;
  24 more sessions are only started and stopped, so Stop to zero has 30 samples.

Quick: 1 worker, 1 client, one round at 8x speed, no scaling curve. Skipped without
MICROAMP_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.stations import StopWatch, _figures
from bench.web import TLS
from microamp.clinic.intake import nothing_to_report
from microamp.session import Event
from microamp.station import Station
from microamp.station.live import LiveSession
from microamp.store import Store, StoreSettings, open_store
from microamp.store.access import create_api_token
from microamp.store.crud import create_client, create_user, record_consent, record_intake
from microamp.store.scratch import scratch_schema
from microamp.web.security import hash_password

PG_ENV = "MICROAMP_TEST_DATABASE_URL"
ROOM = "Bench room"
DEVICE = "sim://?load=gel"
_PASSWORD = "bench-password-1234"
_EMAIL = "p@bench.example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed(store: Store) -> tuple[str, int]:
    """A practitioner (an API token, a password) and a cleared client: the token, the id."""
    born = date(1988, 4, 12)
    with store.transaction() as db:
        user = create_user(db, email=_EMAIL, display_name="Bench", role="practitioner",
                           password_hash=hash_password(_PASSWORD))  # fmt: skip
        token = create_api_token(db, user_id=user.id, name="bench")[1]
        client = create_client(db, full_name="Ana Lima", date_of_birth=born)
        record_intake(db, client_id=client.id, answers=nothing_to_report(born), on=date.today(),
                      today=date.today())  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Ana Lima")
        return token, client.id


@contextmanager
def _workers(url: str, workers: int, data_dir: Path) -> Iterator[str]:
    port = _free_port()
    # every worker a web worker only: the bench's station drives the device
    env = os.environ | {"MICROAMP_DATA_DIR": str(data_dir), "MICROAMP_SECRET_KEY": "b" * 40,
                        "MICROAMP_EMBEDDED_STATION": "false"}  # fmt: skip
    command = [sys.executable, "-m", "microamp", "serve", "--workers", str(workers), "--port",
               str(port), "--database", url]  # fmt: skip
    log = (data_dir / f"serve-{workers}.log").open("wb")
    running = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _answers(base):
            if time.monotonic() > deadline or running.poll() is not None:
                tail = Path(log.name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the workers did not come up:\n{tail}")
            time.sleep(0.1)
        yield base
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGTERM)
            running.wait(60)
        log.close()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/signin", timeout=2, verify=TLS).status_code == 200
    except httpx.HTTPError:
        return False


def _load(base: str, token: str, seconds: float, clients: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.load_client", base, token, repr(seconds),
               str(clients)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE)


def _load_result(load: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, _err = load.communicate(timeout=600)
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def _call(base: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    """One request on a new connection: the kernel hands it to any worker."""
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
        return api.request(method, path, **kw)


def _signed_in(base: str) -> httpx.Client:
    page = httpx.Client(base_url=base, timeout=30)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/signin").text)
    page.post("/signin", data={"email": _EMAIL, "password": _PASSWORD,
                               "csrf_token": found.group(1) if found else ""})  # fmt: skip
    return page


class _Stream(threading.Thread):
    """Reads a session's live stream; the wall time each event arrived, by (kind, t_s)."""

    def __init__(self, base: str, live_id: str) -> None:
        super().__init__(daemon=True)
        self.base, self.live_id = base, live_id
        self.arrived: dict[tuple[str, float], float] = {}
        self.open = threading.Event()

    def run(self) -> None:
        page = _signed_in(self.base)
        try:
            self._read(page)
        finally:
            page.close()

    def _read(self, page: httpx.Client) -> None:
        with page.stream("GET", f"/live/{self.live_id}/events") as stream:
            self.open.set()
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "event":
                    data = json.loads(line.removeprefix("data: "))
                    key = (str(data.get("kind")), round(float(data.get("t_s") or 0.0), 6))
                    self.arrived.setdefault(key, time.perf_counter())
                elif name == "end":
                    return


def _started(base: str, token: str, client_id: int, station: Station) -> tuple[str, LiveSession]:
    """A session started through any worker, once it runs at the station: its id, itself."""
    started = _call(base, token, "POST", "/api/v1/sessions",
                    json={"client_id": client_id, "protocol": "pro-express"})  # fmt: skip
    if started.status_code != 201:
        raise RuntimeError(f"the bench session did not start: {started.text}")
    live_id = started.json()["id"]
    local = _until(lambda: station.sessions.get(live_id))
    _until(lambda: str(local.runner.snapshot().status) == "running")
    return live_id, local


def _stopped(base: str, token: str, live_id: str, local: LiveSession, station: Station) -> float:
    """Stop pressed (through any worker) to zero output at the station, wall seconds; the
    station is free again when this returns."""
    watch = StopWatch(local)
    pressed = time.perf_counter()
    presses = threading.Thread(target=_press_stop, args=(base, token, live_id, local), daemon=True)
    presses.start()
    _until(lambda: not local.device.output_on, 120, poll_s=0.0005)
    stop_s = time.perf_counter() - pressed
    local.wait(10)
    _RECEIVED_TO_ZERO.append(watch.seconds())
    presses.join(60)
    _until(lambda: not station.busy_with(), 30)  # free for the next round
    return stop_s


def _stop_round(base: str, token: str, client_id: int, station: Station) -> float:
    """A session started and, once its output is on, stopped: one more Stop to zero."""
    live_id, local = _started(base, token, client_id, station)
    _until(lambda: local.device.output_on, 60)
    time.sleep(0.3)
    return _stopped(base, token, live_id, local, station)


def _round(base: str, token: str, client_id: int, station: Station, ratio_s: float,
           toggles: int, speed: float) -> tuple[float, list[float], float]:  # fmt: skip
    """One session under load: its real-time ratio, event-to-browser delays, Stop to zero."""
    live_id, local = _started(base, token, client_id, station)
    emitted: dict[tuple[str, float], float] = {}

    def seen(event: Event) -> None:
        emitted.setdefault((event.kind, round(float(event.t_s), 6)), time.perf_counter())

    local.runner.subscribe(seen)
    stream = _Stream(base, live_id)
    stream.start()
    stream.open.wait(30)
    opened = time.perf_counter()
    ratio = _ratio(local, ratio_s) / speed
    for n in range(toggles):
        action = "pause" if n % 2 == 0 else "resume"
        try:
            if _call(base, token, "POST", f"/api/v1/sessions/{live_id}/{action}").is_success:
                continue
        except httpx.HTTPError:
            pass
        _FAILED["controls"] += 1
    time.sleep(0.5)
    stop_s = _stopped(base, token, live_id, local, station)
    stream.join(10)
    # events emitted once the stream was open (before, they arrive with its history)
    delays = [stream.arrived[k] - t for k, t in emitted.items()
              if k in stream.arrived and t >= opened]  # fmt: skip
    return ratio, delays, stop_s


_FAILED = {"stops": 0, "controls": 0}
# from the station's receipt of each Stop to zero output, seconds
_RECEIVED_TO_ZERO: list[float] = []
PAGES_WINDOW_S = 20.0
STOPS = 30


def _press_stop(base: str, token: str, live_id: str, local: LiveSession) -> None:
    """Stop, pressed again while it fails (as the console tells the operator to)."""
    while not local.done:
        try:
            answer = _call(base, token, "POST", f"/api/v1/sessions/{live_id}/stop")
            if answer.status_code == 200:
                return
            if answer.status_code == 503 and answer.headers.get("Retry-After"):
                # the console's own retry after a busy answer (`console.js` control)
                time.sleep(min(float(answer.headers["Retry-After"]), 5.0))
        except httpx.HTTPError:
            pass
        _FAILED["stops"] += 1


def _ratio(local: LiveSession, seconds: float) -> float:
    first_t, first_wall = local.runner.snapshot().t_s, time.perf_counter()
    time.sleep(seconds)
    return (local.runner.snapshot().t_s - first_t) / (time.perf_counter() - first_wall)


def _until(check: Any, timeout_s: float = 30.0, poll_s: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        if time.monotonic() > deadline:
            raise RuntimeError("the bench waited in vain")
        time.sleep(poll_s)
    return found


def _measure(url: str, data_dir: Path, quick: bool) -> dict[str, Any]:
    # the pages/s window: 20 s a point in the full run, so each point holds thousands of
    # pages and the 1/2/4-worker curve is more than the noise of a shared machine
    # quick: one page client, so the load (never idle) keeps one core busy, not both
    clients, seconds, rounds = (1, 1.0, 1) if quick else (50, PAGES_WINDOW_S, 6)
    # Stops beyond the rounds' own (a session started, then stopped): 30 in all, so the p99
    # is more than the largest of six
    extra_stops = 0 if quick else STOPS - rounds
    with open_store(url, settings=StoreSettings(data_dir=data_dir), upgrade=True) as store:
        token, client_id = _seed(store)
        scaling: dict[str, float] = {}
        for workers in () if quick else (1, 2, 4):
            with _workers(url, workers, data_dir) as base:
                scaling[str(workers)] = _load_result(_load(base, token, seconds, clients))[
                    "pages_per_s"
                ]
        workers = 1 if quick else 4
        # quick: a paced simulator, so its prechecks take a moment; the ratio is per its speed
        speed = 8.0 if quick else 1.0
        station = Station(store, name=ROOM, device_url=DEVICE, speed=speed)
        station.start(check_device=False)
        try:
            with _workers(url, workers, data_dir) as base:
                load = _load(base, token, 3600.0 if not quick else 30.0, clients)
                ratios, events, stops = [], [], []
                try:
                    time.sleep(1.0)  # the load under way
                    for _ in range(rounds):
                        ratio, delays, stop_s = _round(base, token, client_id, station,
                                                       1.0 if quick else 4.0, 2 if quick else 6, speed)  # fmt: skip
                        ratios.append(ratio)
                        events.extend(delays)
                        stops.append(stop_s)
                    for _ in range(extra_stops):
                        stops.append(_stop_round(base, token, client_id, station))
                finally:
                    load.send_signal(signal.SIGTERM)
                    load.wait(30)
        finally:
            station.stop()
    return {
        "workers": workers, "clients": clients, "rounds": rounds, "stops": len(stops),
        "pages_per_s": scaling, "pages_window_s": seconds, "stop_to_zero": _figures(stops),
        "stop_received_to_zero": _figures(_RECEIVED_TO_ZERO),
        "event_to_browser": _figures(events), "real_time_ratio_min": min(ratios),
        "real_time_ratio_mean": sum(ratios) / len(ratios),
        "failed_stop_presses": _FAILED["stops"], "failed_controls": _FAILED["controls"],
    }  # fmt: skip


def run(quick: bool = False) -> dict[str, Any]:
    pg = os.environ.get(PG_ENV)
    if not pg:
        return {"cluster": {"skipped": f"{PG_ENV} is not set"}}
    with tempfile.TemporaryDirectory() as tmp, scratch_schema(pg, prefix="bench") as url:
        return {"cluster": _measure(url, Path(tmp), quick)}
