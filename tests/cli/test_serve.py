"""`microamp serve` as a person starts it: a real process on a scratch SQLite database."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

MICROAMP = Path(sys.executable).with_name("microamp")
LINK = re.compile(r"http://\S+/setup/[\w-]+")


def scratch_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MICROAMP_DATA_DIR": str(tmp_path),
            "MICROAMP_DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_on_an_empty_database_prints_a_setup_link_that_opens(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen(
        [str(MICROAMP), "serve", "--port", str(port)], env=scratch_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as server:  # fmt: skip
        try:
            check_the_link(server)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)


def check_the_link(server: subprocess.Popen[str]) -> None:
    """The link the server prints opens the setup page; a changed one opens nothing."""
    assert server.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while not any(LINK.search(line) for line in lines) and time.monotonic() < deadline:
        lines.append(server.stdout.readline())
    found = next((LINK.search(line) for line in lines if LINK.search(line)), None)
    assert found, "".join(lines)
    link = found.group(0).replace("localhost", "127.0.0.1")
    while True:
        try:
            response = httpx.get(link, timeout=5)
            break
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.1)
    assert response.status_code == 200
    assert "Set up the clinic" in response.text
    assert httpx.get(link + "x", timeout=5).status_code == 404


def test_serve_on_a_taken_port_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(MICROAMP), "serve", "--port", str(port)], env=scratch_env(tmp_path),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port}" in lines[0] and "--port" in lines[0]
    assert "setup" not in done.stdout  # refused before any link is issued
