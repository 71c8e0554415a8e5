"""The README's tour works as written, and the README says what the code does.

Every line of every ``sh`` block in "A short tour of the CLI" runs in a scratch directory (with
a copy of ``examples/``, as at the top of a clone), on a scratch SQLite database and data
directory, with ``.venv/bin`` on PATH, in order. A line exits 0 unless its comment says
``exits 1``; none may print a traceback. Lines that say ``runs until Ctrl+C`` are started, used
(the firmware emulator's pty path replaces the README's ``/dev/pts/3``; the server must answer)
and stopped with Ctrl+C at the end. A live view (``microamp run`` without ``--speed``) runs at
``--speed max``, the server on a free port; nothing else is changed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from microamp.clinic.intake import INTAKE_KEYS
from microamp.devices.injection import FAULT_KINDS
from microamp.devices.load import LOAD_PRESETS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
README_PTY = "/dev/pts/3"
# fed to every line: a prompt for a new password reads it twice
PASSWORD_TWICE = "a long tour password\na long tour password\n"
LINE_TIMEOUT_S = 300
START_TIMEOUT_S = 60
# The host stops a serial device that sends no telemetry for 50 ms of wall time, and the firmware
# zeroes its output when it hears no host for 250 ms; two cores shared by parallel test runs can
# starve either process that long. Those stops are the stall check and the watchdog working, so
# such a line gets more tries; any other failure, or a starved run every time, fails the test.
STARVED_CODES = ("telemetry_silent", "watchdog")
SILENCE_ATTEMPTS = 3
# a clean stop on Ctrl+C: 0, or the shell's 128 + SIGINT that uvicorn exits with
CTRL_C_EXITS = (0, 128 + signal.SIGINT, -signal.SIGINT)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@dataclass(frozen=True)
class TourLine:
    command: str
    comment: str

    @property
    def expected_exit(self) -> int:
        found = re.search(r"\bexits (\d+)", self.comment)
        return int(found.group(1)) if found else 0

    @property
    def background(self) -> bool:
        return "runs until ctrl+c" in self.comment.lower()


def split_comment(line: str) -> tuple[str, str]:
    """The command and its trailing ``# comment``; a ``#`` inside quotes is the command's."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].strip(), line[index + 1 :].strip()
    return line.strip(), ""


def tour_lines() -> list[TourLine]:
    blocks = re.findall(r"```sh\n(.*?)```", section("A short tour of the CLI"), re.S)
    lines = []
    for block in blocks:
        for raw in block.splitlines():
            command, comment = split_comment(raw)
            if command:
                lines.append(TourLine(command, comment))
    return lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Tour:
    """The scratch machine the tour runs on, and what it left running."""

    def __init__(self, scratch: Path) -> None:
        self.cwd = scratch / "clone"
        shutil.copytree(ROOT / "examples", self.cwd / "examples")
        data_dir = scratch / "data"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MICROAMP_")}
        self.env |= {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "MICROAMP_DATA_DIR": str(data_dir),
            "MICROAMP_DATABASE_URL": f"sqlite:///{scratch / 'default.db'}",
            "MPLCONFIGDIR": str(scratch / "matplotlib"),
        }
        self.pty: str | None = None
        self.running: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def prepare(self, line: TourLine) -> str:
        command = line.command
        if README_PTY in command:
            assert self.pty, f"{line.command!r} needs the firmware emulator started before it"
            command = command.replace(README_PTY, self.pty)
        words = shlex.split(command)
        if words[:2] == ["microamp", "run"] and "--speed" not in words:
            command += " --speed max"  # the live view, as fast as the simulator goes
        if words[:2] == ["microamp", "serve"]:
            command = re.sub(r"\s--port\s+\d+", "", command) + f" --port {free_port()}"
        return command

    def export(self, command: str) -> None:
        name, _, _value = command.removeprefix("export ").partition("=")
        shown = subprocess.run(
            ["bash", "-c", f'{command} && printf %s "${name}"'], cwd=self.cwd, env=self.env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.env[name] = shown.stdout

    def run(self, line: TourLine) -> None:
        command = self.prepare(line)
        if command.startswith("export "):
            self.export(command)
            return
        if line.background:
            self.start(command)
            return
        for _attempt in range(SILENCE_ATTEMPTS):
            done = subprocess.run(
                ["bash", "-c", command], cwd=self.cwd, env=self.env, input=PASSWORD_TWICE,
                capture_output=True, text=True, timeout=LINE_TIMEOUT_S, start_new_session=True,
            )  # fmt: skip
            output = done.stdout + done.stderr
            starved = "serial://" in command and any(code in output for code in STARVED_CODES)
            if done.returncode == line.expected_exit or not starved:
                break
        assert "Traceback" not in output, f"{line.command}\n{output}"
        assert done.returncode == line.expected_exit, (
            f"{line.command!r} exited {done.returncode}, the README says {line.expected_exit}"
            f"\n{output[-3000:]}"
        )

    def start(self, command: str) -> None:
        log = self.cwd / f"background-{len(self.running)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {command}"], cwd=self.cwd, env=self.env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.running.append((command, process, log))
        if shlex.split(command)[:2] == ["microamp", "firmware-emulator"]:
            self.pty = self._first_line(process, log)
            assert self.pty.startswith("/dev/"), f"the emulator printed {self.pty!r}"
        elif shlex.split(command)[:2] == ["microamp", "serve"]:
            port = re.search(r"--port (\d+)", command)
            assert port
            self._answers(process, log, f"http://127.0.0.1:{port.group(1)}/healthz")

    def _first_line(self, process: subprocess.Popen[bytes], log: Path) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8", errors="replace")
            if "\n" in text:
                return text.splitlines()[0].strip()
            assert process.poll() is None, f"it ended early:\n{text}"
            time.sleep(0.05)
        raise AssertionError(f"nothing printed in {START_TIMEOUT_S} s")

    def _answers(self, process: subprocess.Popen[bytes], log: Path, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{url} did not answer in {START_TIMEOUT_S} s")

    def stop_all(self) -> list[str]:
        """Ctrl+C to each, newest first; what went wrong on the way out."""
        problems = []
        for command, process, log in reversed(self.running):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                code = process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                problems.append(f"{command!r} did not stop on Ctrl+C")
                continue
            text = log.read_text(encoding="utf-8", errors="replace")
            if code not in CTRL_C_EXITS or "Traceback" in text:
                problems.append(f"{command!r} ended with {code} on Ctrl+C:\n{text[-2000:]}")
        return problems


@pytest.fixture
def tour(tmp_path: Path) -> Iterator[Tour]:
    scratch = Tour(tmp_path)
    try:
        yield scratch
    finally:
        scratch.stop_all()


def test_every_tour_line_works_as_the_readme_says(tour: Tour) -> None:
    lines = tour_lines()
    for line in lines:
        tour.run(line)
    problems = tour.stop_all()
    tour.running.clear()
    assert not problems, "\n".join(problems)


def test_the_tour_is_read_whole() -> None:
    lines = tour_lines()
    assert len(lines) >= 30, "the tour blocks were not found"
    programs = {shlex.split(line.command)[0] for line in lines}
    assert programs <= {"microamp", "cp", "export"}, programs
    assert [line for line in lines if line.expected_exit == 1], "no line is marked exits 1"
    started = {shlex.split(line.command)[1] for line in lines if line.background}
    assert started == {"firmware-emulator", "serve"}


def test_the_comment_splitter_keeps_quoted_hashes() -> None:
    assert split_comment('microamp x "a#b" --y 1   # exits 1: why') == (
        'microamp x "a#b" --y 1',
        "exits 1: why",
    )
    assert split_comment("microamp devices list") == ("microamp devices list", "")


def test_the_readme_says_how_to_reach_the_command() -> None:
    text = section("Two commands")
    assert "source .venv/bin/activate" in text
    assert ".venv/bin/microamp" in text
    assert "make run PORT=8001" in text


def test_the_readme_names_the_loads_faults_and_intake_keys_the_code_has() -> None:
    text = README.read_text(encoding="utf-8")
    loads = re.search(r"sim://\?load=([a-z][a-z0-9]*(?:\|[a-z][a-z0-9]*)+)", text)
    assert loads and set(loads.group(1).split("|")) == set(LOAD_PRESETS)
    assert "physically honest" not in text, "say what the load model is"
    assert all(f"`{kind}`" in text for kind in FAULT_KINDS), FAULT_KINDS
    screen = text[text.index("`microamp screen` reads intake answers") :]
    screen = screen[: screen.index("\n\n")]
    assert set(re.findall(r"`([a-z_]+)`", screen)) >= set(INTAKE_KEYS)
