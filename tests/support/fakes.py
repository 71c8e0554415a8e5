"""Fakes passed in where real hardware would be (no patching)."""

from __future__ import annotations

from typing import Any

import numpy as np


class FakeStream:
    """Stands in for sounddevice.OutputStream: the test pulls blocks through the callback."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True

    def pull(self, blocks: int) -> np.ndarray:
        size = self.settings["blocksize"]
        out = np.empty((blocks * size, 1), dtype=np.float32)
        for i in range(blocks):
            self.settings["callback"](out[i * size : (i + 1) * size], size, None, None)
        return out[:, 0]
