"""On the serial backend the firmware renders its own output, so the host keeps the net-charge
account from what it commanded: one-way current stops before the profile's imbalance limit,
and a new one-way command that would pass it is refused whole."""

from __future__ import annotations

import time

import pytest

from microamp.clock import RealClock
from microamp.devices import Command, open_device
from microamp.devices.emulator import FirmwareEmulator
from microamp.errors import InvalidValue
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

HOME = get_profile("home")
POSITIVE = Waveform(
    shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0, polarity="positive"
)


def test_one_way_current_on_the_serial_backend_stops_before_the_imbalance_limit() -> None:
    with FirmwareEmulator("sim://?ramp_s=0").start() as emulator:
        with open_device(f"serial://{emulator.path}", clock=RealClock(), profile=HOME) as device:
            assert device.commanded_charge is not None
            device.apply(Command(POSITIVE, expires_after_s=0.5))
            deadline = time.monotonic() + 8.0
            while device.command is not None and time.monotonic() < deadline:
                time.sleep(0.02)
                device.heartbeat()
            faults = device.drain_faults()
            assert [f.code for f in faults] == [FaultCode.CHARGE_IMBALANCE]
            assert device.commanded_charge.net_uc <= HOME.max_imbalance_uc.value
            with pytest.raises(InvalidValue):
                device.apply(Command(POSITIVE, expires_after_s=2.0))
            assert device.command is None
        # what the firmware itself delivered stays under the limit too
        assert emulator.sim.charge.net_uc <= HOME.max_imbalance_uc.value
