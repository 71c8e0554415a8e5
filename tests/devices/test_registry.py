"""Backends by name, opened from a URL; every bad URL named clearly."""

from __future__ import annotations

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import available_backends, open_device
from microamp.devices.base import open_devices
from microamp.errors import DeviceURLError, InvalidValue


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("gel", "url"),
        ("nosuch://", "backend"),
        ("sim://?load=mud", "load"),
        ("sim://?lod=gel", "lod"),
        ("sim://?rs_ohm=-5", "rs_ohm"),
        ("sim://?seed=x", "seed"),
        ("sim://?fault=meltdown@1", "fault"),
        ("sim://?fault=stall@soon", "fault"),
        ("sim://?load=gel&load=dry", "load"),
        ("sim://?compliance_v=60", "compliance_v"),
        ("sim://somewhere", "url"),
    ],
)
def test_bad_url_is_refused_naming_the_parameter(url: str, field: str) -> None:
    with pytest.raises(DeviceURLError) as info:
        open_device(url, clock=SimulatedClock())
    assert isinstance(info.value, InvalidValue)
    assert info.value.field == field
    assert open_devices() == []


def test_sim_is_always_available() -> None:
    names = {b.name: b for b in available_backends()}
    assert names["sim"].available and names["sim"].reason is None


def test_device_is_a_context_manager_with_idempotent_close() -> None:
    with open_device("sim://", clock=SimulatedClock()) as device:
        assert not device.closed
    assert device.closed
    device.close()
    assert device.closed


def test_missing_optional_dependency_is_a_clear_install_message() -> None:
    import importlib.util

    from microamp.errors import BackendUnavailable

    if importlib.util.find_spec("sounddevice") is not None:
        pytest.skip("sounddevice is installed here")
    with pytest.raises(BackendUnavailable, match=r"install microamp\[audio\]"):
        open_device("audio://default", clock=SimulatedClock())
