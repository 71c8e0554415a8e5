"""A host whose clock differs from the device's puts every frame it returns on its own time
line, even the frames that arrive in the same read as the device's capabilities (a firmware
that another host used before streams telemetry from the moment it is answered)."""

from __future__ import annotations

from devices.links import FirmwareLink, firmware_on
from microamp.clock import SimulatedClock
from microamp.devices.serial_device import SerialDevice
from microamp.safety import get_profile

HOME = get_profile("home")
HOST_AHEAD_S = 100.0


def test_frames_after_a_reconnect_are_all_on_the_new_hosts_time_line() -> None:
    device_clock = SimulatedClock()
    firmware = firmware_on(device_clock)
    first = SerialDevice(device_clock, HOME, FirmwareLink(firmware), reply_timeout_s=0.05)
    device_clock.advance(0.2)
    first.poll()
    first.close()  # the firmware has seen a host, so it goes on streaming telemetry
    device_clock.advance(0.2)

    host_clock = SimulatedClock(start_s=device_clock.now() + HOST_AHEAD_S)
    link = FirmwareLink(firmware)
    host = SerialDevice(host_clock, HOME, link, reply_timeout_s=0.05)
    try:
        connected_s = host_clock.now()
        for _ in range(5):
            device_clock.advance(0.02)
            host_clock.advance(0.02)
        frames = host.poll()
        assert frames
        stamps = [f.t_s for f in frames]
        assert all(connected_s - 0.05 <= t <= host_clock.now() + 1e-9 for t in stamps), stamps
    finally:
        host.close()
        firmware.sim.close()
