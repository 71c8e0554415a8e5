"""A device that fails while the supervisor renews its command: zero output and a fault in the
update, never an exception out of `service`."""

from __future__ import annotations

from devices.links import close_both, linked_host
from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

STEADY = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def test_an_unacknowledged_heartbeat_is_reported_as_a_fault_with_output_at_zero() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock)
    try:
        supervisor = Supervisor(host, get_profile("home"))
        supervisor.apply(Command(STEADY, expires_after_s=1.0))
        for _ in range(5):
            clock.advance(0.01)
            assert supervisor.service().faults == []
        # every frame to the device is lost from here on: the next heartbeat gets no reply
        link.to_device.fates.extend(["drop"] * 50)
        faults = []
        for _ in range(100):
            clock.advance(0.01)
            faults = supervisor.service().faults
            if faults:
                break
        # the unanswered heartbeat, and the STOP after it that no reply confirmed either
        assert faults and {f.code for f in faults} == {FaultCode.DRIVER_ERROR}
        assert any("HEARTBEAT" in str(f.detail["error"]) for f in faults)
        assert all(f.zero_t_s is not None for f in faults)
        assert not supervisor.running
        assert host.command is None
    finally:
        close_both(host, link)
