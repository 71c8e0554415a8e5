"""The serial backend's URL: the port's speed and the reply timeout are read by name and held to
their ranges at both ends; a URL without a port, or a port that cannot be opened, is refused in
words, before any byte is sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from microamp.clock import RealClock
from microamp.devices import open_device
from microamp.devices.emulator import FirmwareEmulator
from microamp.errors import DeviceError, InvalidValue
from microamp.safety import get_profile

HOME = get_profile("home")


@pytest.fixture(scope="module")
def port_path() -> Iterator[str]:
    with FirmwareEmulator("sim://?ramp_s=0").start() as emulator:
        yield emulator.path


def _open(url: str) -> None:
    with open_device(url, clock=RealClock(), profile=HOME) as device:
        assert device.capabilities.backend == "serial"


@pytest.mark.parametrize("query", ["", "?baud=300", "?baud=4000000",
                                   "?timeout_s=30", "?baud=9600&timeout_s=0.5"])  # fmt: skip
def test_a_serial_url_within_its_ranges_opens_the_device(port_path: str, query: str) -> None:
    _open(f"serial://{port_path}{query}")


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ("?baud=299", "baud", "299"),
        ("?baud=4000001", "baud", "4000001"),
        ("?timeout_s=0.009", "timeout_s", "0.009"),
        ("?timeout_s=30.5", "timeout_s", "30.5"),
    ],
)
def test_a_serial_url_past_its_ranges_is_refused_by_parameter(
    port_path: str, query: str, field: str, value: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        _open(f"serial://{port_path}{query}")
    assert refused.value.field == field
    assert str(refused.value.value) == value


def test_the_baud_rule_names_its_whole_range(port_path: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        _open(f"serial://{port_path}?baud=100")
    assert refused.value.rule == "must be a whole number from 300 to 4000000"


def test_a_serial_url_without_a_port_is_refused_as_the_url() -> None:
    with pytest.raises(InvalidValue) as refused:
        _open("serial://")
    assert refused.value.field == "url"
    assert refused.value.rule == "name the port: serial:///dev/ttyACM0"


def test_a_port_that_cannot_be_opened_is_a_device_error_naming_it(tmp_path: object) -> None:
    missing = f"{tmp_path}/no-such-port"
    with pytest.raises(DeviceError, match=f"^cannot open {missing}: "):
        _open(f"serial://{missing}")
