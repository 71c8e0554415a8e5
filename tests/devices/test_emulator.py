"""The firmware emulator: refuses bad commands whole, keeps its soft limit, and its watchdog
zeroes output when the host dies. Injected faults end in zero output and a fault event."""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from microamp.clock import RealClock
from microamp.devices import Command, Supervisor, open_device
from microamp.devices.emulator import FirmwareEmulator
from microamp.devices.wire import (
    COMMAND_BODY,
    FrameReader,
    Message,
    MsgType,
    NackReason,
    command_body,
    encode,
    nack_parts,
)
from microamp.errors import InvalidValue
from microamp.safety import FaultCode, MonitorLimits, TelemetryMonitor, get_profile
from microamp.stimulus import Waveform

STEADY = Waveform(shape="square", amplitude_ua=100.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def _events(log: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


def _exchange(port: serial.Serial, reader: FrameReader, message: Message) -> Message:
    port.write(encode(message))
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        for reply in reader.feed(port.read(max(1, port.in_waiting))):
            if reply.type == MsgType.CAPS and reply.seq == message.seq:
                return reply
            if reply.type in (MsgType.ACK, MsgType.NACK) and reply.body[:2] == struct.pack(
                "<H", message.seq
            ):
                return reply
    raise AssertionError("no reply from the emulator")


def _good_body() -> bytes:
    return command_body(STEADY, 1.0, 0.5)


BAD_COMMANDS = {
    "nan amplitude": lambda: COMMAND_BODY.pack(
        0, 2, float("nan"), 10, 0.5, 2.5, 0, 500, 0, 0, 1, 500
    ),
    "unknown shape": lambda: COMMAND_BODY.pack(9, 2, 100, 10, 0.5, 2.5, 0, 500, 0, 0, 1, 500),
    "frequency": lambda: COMMAND_BODY.pack(0, 2, 100, 5000, 0.5, 2.5, 0, 500, 0, 0, 1, 500),
    "intensity": lambda: COMMAND_BODY.pack(0, 2, 100, 10, 0.5, 2.5, 0, 500, 0, 0, 1.5, 500),
    "no expiry": lambda: COMMAND_BODY.pack(0, 2, 100, 10, 0.5, 2.5, 0, 500, 0, 0, 1, 0),
    "too long expiry": lambda: COMMAND_BODY.pack(0, 2, 100, 10, 0.5, 2.5, 0, 500, 0, 0, 1, 9000),
    "over maximum": lambda: COMMAND_BODY.pack(0, 2, 1500, 10, 0.5, 2.5, 0, 500, 0, 0, 1, 500),
    "short body": lambda: _good_body()[:-3],
}


@pytest.mark.requirement("SAF-DEV-03")
@pytest.mark.parametrize("case", sorted(BAD_COMMANDS))
def test_emulator_refuses_out_of_range_commands_whole(case: str) -> None:
    log = io.StringIO()
    with FirmwareEmulator("sim://?ramp_s=0", log=log).start() as emulator:
        with serial.Serial(emulator.path, timeout=0) as port:
            reader = FrameReader()
            assert _exchange(port, reader, Message(MsgType.HELLO, 1)).type == MsgType.CAPS
            assert (
                _exchange(port, reader, Message(MsgType.COMMAND, 2, _good_body())).type
                == MsgType.ACK
            )
            reply = _exchange(port, reader, Message(MsgType.COMMAND, 3, BAD_COMMANDS[case]()))
            assert reply.type == MsgType.NACK
            seq, reason, field, _value, rule = nack_parts(reply.body)
            assert (seq, reason) == (3, NackReason.OUT_OF_RANGE)
            assert field and rule
            command = emulator.sim.command
            assert command is not None and command.waveform == STEADY
    assert any(e["event"] == "nack" for e in _events(log))


def test_emulator_drops_frames_with_a_bad_crc() -> None:
    with FirmwareEmulator("sim://").start() as emulator:
        with serial.Serial(emulator.path, timeout=0) as port:
            frame = bytearray(encode(Message(MsgType.COMMAND, 2, _good_body())))
            frame[5] ^= 0x40
            port.write(bytes(frame))
            reader = FrameReader()
            assert _exchange(port, reader, Message(MsgType.HELLO, 3)).type == MsgType.CAPS
            assert emulator.sim.command is None


def test_soft_limit_is_kept_across_restarts_and_refuses_commands_above_it(tmp_path: Path) -> None:
    state = tmp_path / "firmware.json"
    professional = get_profile("professional")
    with FirmwareEmulator("sim://", state_path=state).start() as emulator:
        url = f"serial://{emulator.path}"
        with open_device(url, clock=RealClock(), profile=professional) as device:
            device.set_soft_limit(150.0)  # type: ignore[attr-defined]
            with pytest.raises(InvalidValue, match="soft_limit_ua"):
                device.set_soft_limit(5000.0)  # type: ignore[attr-defined]
            with pytest.raises(InvalidValue, match="soft limit is 150"):
                device.apply(Command(STEADY.with_amplitude(200.0)))
            assert device.command is None
    with FirmwareEmulator("sim://", state_path=state).start() as emulator:
        assert emulator.soft_limit_ua == 150.0


def test_the_host_writes_its_profile_maximum_as_the_soft_limit_on_every_connect(
    tmp_path: Path,
) -> None:
    state = tmp_path / "firmware.json"
    with FirmwareEmulator("sim://", state_path=state).start() as emulator:
        url = f"serial://{emulator.path}"
        with open_device(url, clock=RealClock(), profile=get_profile("home")) as device:
            assert device.soft_limit_ua == 400.0  # type: ignore[attr-defined]
        assert emulator.soft_limit_ua == 400.0
        with open_device(url, clock=RealClock(), profile=get_profile("professional")):
            pass
        assert emulator.soft_limit_ua == 1000.0
    assert json.loads(state.read_text())["soft_limit_ua"] == 1000.0


def test_the_firmware_refuses_a_command_above_the_soft_limit_the_host_wrote() -> None:
    with FirmwareEmulator("sim://?ramp_s=0").start() as emulator:
        url = f"serial://{emulator.path}"
        with open_device(url, clock=RealClock(), profile=get_profile("home")):
            pass
        with serial.Serial(emulator.path, timeout=0) as port:
            reader = FrameReader()
            assert _exchange(port, reader, Message(MsgType.HELLO, 1)).type == MsgType.CAPS
            body = command_body(STEADY.with_amplitude(450.0), 1.0, 0.5)
            reply = _exchange(port, reader, Message(MsgType.COMMAND, 2, body))
            assert reply.type == MsgType.NACK
            _seq, reason, field, value, rule = nack_parts(reply.body)
            assert (reason, field, value) == (NackReason.OUT_OF_RANGE, "amplitude_ua", "450")
            assert "soft limit is 400" in rule
            assert emulator.sim.command is None


def test_the_firmware_refuses_a_frequency_outside_the_range_the_host_wrote() -> None:
    with FirmwareEmulator("sim://?ramp_s=0").start() as emulator:
        url = f"serial://{emulator.path}"
        with open_device(url, clock=RealClock(), profile=get_profile("home")):
            pass
        with serial.Serial(emulator.path, timeout=0) as port:
            reader = FrameReader()
            assert _exchange(port, reader, Message(MsgType.HELLO, 1)).type == MsgType.CAPS
            fast = Waveform(shape="sine", amplitude_ua=100.0, frequency_hz=1200.0)
            reply = _exchange(port, reader, Message(MsgType.COMMAND, 2, command_body(fast, 1, 0.5)))
            assert reply.type == MsgType.NACK
            _seq, reason, field, value, rule = nack_parts(reply.body)
            assert (reason, field, value) == (NackReason.OUT_OF_RANGE, "frequency_hz", "1200")
            assert "0.1-1000 Hz" in rule
            assert emulator.sim.command is None


@pytest.mark.parametrize(
    ("kind", "at_s", "code"),
    [
        ("contact-loss", 0.4, FaultCode.CONTACT_LOST),
        ("dry", 0.4, FaultCode.COMPLIANCE),
        ("stall", 0.4, FaultCode.TELEMETRY_SILENT),
        # a port that vanishes before the host has opened it cannot be opened: leave time for that
        ("disconnect", 1.5, FaultCode.DISCONNECTED),
    ],
)
def test_each_injected_fault_on_the_emulator_ends_in_zero_output_and_a_fault_event(
    kind: str, at_s: float, code: FaultCode
) -> None:
    log = io.StringIO()
    profile = get_profile("professional")
    # Fault times count from the emulator's power-on, and on a loaded machine the host's HELLO can
    # come after them. At 20 V the dry load reaches the rail whether it dried before or after the
    # output began (at 40 V a 10 Hz wave into skin that was dry from the start never does), and
    # the wet load never reaches it.
    url = f"sim://?ramp_s=0&compliance_v=20&fault={kind}@{at_s}"
    with FirmwareEmulator(url, log=log).start() as emulator:
        with open_device(f"serial://{emulator.path}", clock=RealClock(), profile=profile) as device:
            # on the wall clock a loaded test machine can pause a thread for tens of ms: judge
            # silence over 0.5 s here so that only the injected fault can be what is found
            monitor = TelemetryMonitor(MonitorLimits(silence_s=0.5))
            supervisor = Supervisor(device, profile, monitor=monitor)
            supervisor.apply(Command(STEADY))
            faults = []
            # dry skin's interface charges for a while before the rail is reached, and a loaded
            # machine runs the emulator slower than real time: allow for both
            deadline = time.monotonic() + 15.0
            while not faults and time.monotonic() < deadline:
                time.sleep(0.01)
                faults = supervisor.service().faults
            assert [f.code for f in faults] == [code]
            assert not supervisor.running
            end = time.monotonic() + 2.0
            while emulator.sim.output_on and time.monotonic() < end:
                time.sleep(0.01)
            assert not emulator.sim.output_on
    assert any(e["event"] == "output_zero" for e in _events(log))


HOST = """
import sys, time
from microamp.clock import RealClock
from microamp.devices import Command, open_device
from microamp.stimulus import Waveform
device = open_device("serial://" + sys.argv[1], clock=RealClock())
device.apply(Command(Waveform(amplitude_ua=100.0, duty=1.0), expires_after_s=2.0))
print("running", flush=True)
while True:
    time.sleep(0.02)
    device.heartbeat()
    device.poll()
"""


@pytest.mark.requirement("SAF-DEV-02")
def test_killing_the_host_leaves_the_emulator_at_zero_by_its_watchdog() -> None:
    log = io.StringIO()
    with FirmwareEmulator("sim://?ramp_s=0", log=log).start() as emulator:
        host = subprocess.Popen(
            [sys.executable, "-c", HOST, emulator.path], stdout=subprocess.PIPE, text=True
        )
        try:
            assert host.stdout is not None and host.stdout.readline().strip() == "running"
            assert emulator.sim.output_on
            os.kill(host.pid, signal.SIGKILL)
        finally:
            host.wait()
            if host.stdout is not None:
                host.stdout.close()
        deadline = time.monotonic() + 5.0
        while emulator.sim.output_on and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not emulator.sim.output_on
    zeros = [e for e in _events(log) if e["event"] == "output_zero"]
    assert zeros and zeros[0]["reason"] == "watchdog"
    silent_s = zeros[0]["silent_s"]
    assert isinstance(silent_s, float) and silent_s >= 0.25


def test_unknown_message_type_is_nacked() -> None:
    with FirmwareEmulator("sim://").start() as emulator:
        with serial.Serial(emulator.path, timeout=0) as port:
            reply = _exchange(port, FrameReader(), Message(0x42, 7, struct.pack("<H", 1)))
            assert reply.type == MsgType.NACK
            assert nack_parts(reply.body)[1] == NackReason.UNKNOWN_TYPE
