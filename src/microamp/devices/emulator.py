"""`FirmwareEmulator`: the `Firmware` served on a pseudo-terminal, on the wall clock.

It serves docs/serial-protocol.md on ``os.openpty()`` and renders with the ``sim`` physics (a
`SimDevice` on the wall clock, so the same loads and injected faults apply); the protocol itself,
the soft limit (kept in a state file across restarts) and the watchdog live in
`microamp.devices.firmware`. Every event is one JSON line in the log, including when and why
output went to zero.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from pathlib import Path
from typing import TextIO

from microamp.clock import RealClock
from microamp.devices.firmware import WATCHDOG_S, Firmware
from microamp.devices.registry import open_device
from microamp.devices.sim import SimDevice
from microamp.errors import InvalidValue
from microamp.safety.limits import get_profile

__all__ = ["FirmwareEmulator"]

# How often the loop wakes with nothing to read: bounds the watchdog's lateness.
TICK_S = 0.002


class FirmwareEmulator:
    """Serve the protocol until `stop` (or `close`). ``sim_url`` sets the physics and faults."""

    def __init__(
        self,
        sim_url: str = "sim://?load=gel",
        *,
        log: TextIO | None = None,
        state_path: Path | None = None,
        watchdog_s: float = WATCHDOG_S,
    ) -> None:
        self.clock = RealClock()
        device = open_device(sim_url, clock=self.clock, profile=get_profile("professional"))
        if not isinstance(device, SimDevice):
            device.close()
            raise InvalidValue("sim_url", sim_url, "the emulator's physics must be a sim:// URL")
        self.firmware = Firmware(
            device, self.clock, log=log, state_path=state_path, watchdog_s=watchdog_s
        )
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._link_open = True
        self.log("serving", path=self.path, watchdog_s=watchdog_s, soft_limit_ua=self.soft_limit_ua)

    @property
    def sim(self) -> SimDevice:
        return self.firmware.sim

    @property
    def soft_limit_ua(self) -> float:
        return self.firmware.soft_limit_ua

    @property
    def watchdog_s(self) -> float:
        return self.firmware.watchdog_s

    def log(self, event: str, **fields: object) -> None:
        self.firmware.log(event, **fields)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FirmwareEmulator:
        """Serve on a background thread (for tests and benches)."""
        self._thread = threading.Thread(target=self.serve, name="firmware-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask `serve` to return (safe from a signal handler: it only sets a flag)."""
        self._stop_event.set()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.firmware.zero("shutdown")
        self.sim.close()
        self._close_link()
        os.close(self._slave)
        self.log("shutdown")

    def __enter__(self) -> FirmwareEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def serve(self) -> None:
        """The firmware's main loop: read, act, render, report, watch the host."""
        while not self._stop_event.is_set():
            try:
                self._step()
            except Exception as exc:
                # firmware's rule: on anything unexpected, output to zero first, then report
                self.firmware.zero("internal_error", error=f"{type(exc).__name__}: {exc}")
                raise

    def _step(self) -> None:
        if self._link_open:
            readable, _, _ = select.select([self._master], [], [], TICK_S)
            if readable:
                self.firmware.receive(self._read())
        else:
            self._stop_event.wait(TICK_S)
        self.firmware.tick()
        self._write(self.firmware.take_output())
        if self.firmware.link_closed:
            self._close_link()

    # -- the link ------------------------------------------------------------------------------

    def _read(self) -> bytes:
        try:
            return os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            # EIO: no host has the port open right now; the watchdog covers a vanished host
            self._stop_event.wait(TICK_S)
            return b""

    def _write(self, data: bytes) -> None:
        if not data or not self._link_open:
            return
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._master, view) :]
            except OSError:
                return  # nobody reads (or a full buffer): drop the rest, as a UART does

    def _close_link(self) -> None:
        if self._link_open:
            self._link_open = False
            os.close(self._master)
