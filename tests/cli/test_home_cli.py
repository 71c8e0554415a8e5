"""`microamp home` as a person starts it: a real process on a scratch SQLite database."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from cli.test_serve import MICROAMP, free_port, scratch_env
from microamp.store.base import utc_now
from microamp.store.db import open_store
from microamp.store.stations import list_stations


def test_home_on_an_empty_database_opens_the_first_run(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen(
        [str(MICROAMP), "home", "--port", str(port)], env=scratch_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(2)]
            assert f"http://localhost:{port}/" in lines[0]
            assert "No home account yet" in lines[1]
            deadline = time.monotonic() + 60
            while True:
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the home app never answered"
                    time.sleep(0.1)
            assert response.status_code == 303 and response.headers["location"] == "/welcome"
            welcome = httpx.get(f"http://127.0.0.1:{port}/welcome", timeout=5)
            assert "Welcome" in welcome.text and welcome.headers["content-encoding"] == "gzip"
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)


def test_home_on_a_taken_port_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([str(MICROAMP), "home", "--port", str(port)],
                              env=scratch_env(tmp_path), capture_output=True, text=True,
                              timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and f"port {port}" in done.stderr


def test_home_on_a_database_url_it_cannot_use_exits_2_naming_it(tmp_path: Path) -> None:
    done = subprocess.run([str(MICROAMP), "home", "--database", "nosuch://x"],
                          env=scratch_env(tmp_path), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_home_with_an_unknown_device_exits_2_naming_it(tmp_path: Path) -> None:
    done = subprocess.run([str(MICROAMP), "home", "--device", "nosuch://x"],
                          env=scratch_env(tmp_path), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "device" in done.stderr


def test_home_with_the_simulator_runs_its_station_and_offers_device_mode(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen(
        [str(MICROAMP), "home", "--port", str(port), "--device", "sim://"],
        env=scratch_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(2)]
            assert "Device mode on sim://" in lines[1]
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the home app never answered"
                    time.sleep(0.1)
            store = open_store(f"sqlite:///{tmp_path / 'clinic.db'}")
            try:
                with store.session() as db:
                    (station,) = list_stations(db, now=utc_now())
            finally:
                store.close()
            assert station.online and station.device_url == "sim://"
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
        assert server.returncode in (0, 130)
