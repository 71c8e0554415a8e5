"""Device test fixtures. A test that leaves a device open fails (as python-can's suite does)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from microamp.devices.base import open_devices


@pytest.fixture(autouse=True)
def no_leaked_devices() -> Iterator[None]:
    before = {id(d) for d in open_devices()}
    yield
    leaked = [d for d in open_devices() if id(d) not in before]
    for device in leaked:
        device.close()
    if leaked:
        names = ", ".join(type(d).__name__ for d in leaked)
        pytest.fail(f"the test left {len(leaked)} device(s) open: {names}")
