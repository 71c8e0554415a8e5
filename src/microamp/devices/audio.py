"""`AudioDevice`, the ``audio`` backend: a sound card driving a voltage-to-current adapter.

``audio://default?full_scale_ua=1000`` renders in the stream callback through the `Renderer` and
the `OutputGuard` and writes ``current / full_scale_ua`` as the sample (the adapter turns full
scale into ``full_scale_ua``). It needs the optional ``sounddevice`` package (``pip install
'microamp[audio]'``); the stream is passed in, so tests hand it a fake.

Sound cards are AC-coupled: a high-pass of ``highpass_hz`` sits between the DAC and the jack. The
backend declares that coupling and refuses, with the reason, any waveform it cannot carry: a DC
component (monophasic pulses), one polarity held longer than the coupling lets through without
drooping more than 10 % (a slow alternating reversal, long biphasic phases), or a sine or
triangle so slow the coupling takes more than 5 % of its amplitude.

The output is open loop: frames carry the commanded current flagged ``unmeasured``, and the
telemetry monitor never judges them on current. Nothing in the callback blocks: if the lock is
held by the host at that instant, the block is silence.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

from microamp.clock import Clock
from microamp.devices.base import Capabilities, Command, Device, TelemetryFrame
from microamp.devices.urls import DeviceURL
from microamp.errors import InvalidValue
from microamp.safety.charge import ChargeAccount
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.guard import GuardLimits, OutputGuard
from microamp.safety.limits import LimitProfile
from microamp.stimulus.renderer import Envelope, Renderer
from microamp.stimulus.waveform import Waveform

__all__ = ["AudioDevice", "StreamLike"]

# A held level may droop at most this much through the coupling; a sine lose at most 5 %.
MAX_DROOP = 0.10
MIN_SINE_GAIN = 0.95


class StreamLike(Protocol):
    """What the backend needs of an output stream (sounddevice's ``OutputStream`` has it)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


StreamFactory = Callable[..., StreamLike]


# The largest sample of signed 16-bit PCM, the coarsest converter a sound card has.
PCM16_FULL_SCALE = 32767


class AudioDevice(Device):
    """A sound-card stimulator (see the module docstring)."""

    backend: ClassVar[str] = "audio"

    def __init__(
        self,
        clock: Clock,
        profile: LimitProfile,
        stream_factory: StreamFactory,
        *,
        output: str | int | None = None,
        sample_rate_hz: float = 48_000.0,
        block_size: int = 480,
        full_scale_ua: float = 1000.0,
        compliance_v: float = 10.0,
        coupling: Literal["ac", "dc"] = "ac",
        highpass_hz: float = 5.0,
    ) -> None:
        super().__init__(clock, profile)
        self.full_scale_ua = full_scale_ua
        self.highpass_hz = highpass_hz
        self._caps = Capabilities(
            backend="audio",
            max_current_ua=full_scale_ua,
            compliance_v=compliance_v,
            sample_rate_hz=sample_rate_hz,
            coupling=coupling,
            max_frequency_hz=min(2000.0, sample_rate_hz / 8),
            model=f"sound card {output if output is not None else 'default'}",
            # a float32 stream into at least a 16-bit converter: full scale is 32767 steps
            current_step_ua=full_scale_ua / PCM16_FULL_SCALE,
        )
        self._lock = threading.Lock()
        self._renderer: Renderer | None = None
        self._guard: OutputGuard | None = None
        # one net-charge account for the device's life, charged by every guard it makes
        self.charge = ChargeAccount.from_profile(profile, sample_rate_hz)
        self._origin_s = clock.now()
        self._rendered = 0
        self._frames: deque[TelemetryFrame] = deque()
        self._pending: deque[Fault] = deque()
        self._stream = stream_factory(
            samplerate=sample_rate_hz,
            blocksize=block_size,
            channels=1,
            dtype="float32",
            callback=self._callback,
            device=output,
        )
        self._stream.start()

    @classmethod
    def from_url(cls, url: DeviceURL, *, clock: Clock, profile: LimitProfile) -> AudioDevice:
        import sounddevice

        location = url.location.strip("/")
        output: str | int | None = None
        if location and location != "default":
            output = int(location) if location.isdigit() else location
        coupling = url.text("coupling", "ac", choices=("ac", "dc"))
        device = cls(
            clock,
            profile,
            sounddevice.OutputStream,
            output=output,
            sample_rate_hz=url.number("rate_hz", 48_000.0, low=8000.0, high=384_000.0),
            block_size=url.integer("block", 480, low=32, high=8192),
            full_scale_ua=url.number("full_scale_ua", 1000.0, low=0, high=1000.0, low_open=True),
            compliance_v=url.number("compliance_v", 10.0, low=0, high=100.0, low_open=True),
            coupling="dc" if coupling == "dc" else "ac",
            highpass_hz=url.number("highpass_hz", 5.0, low=0, high=1000.0, low_open=True),
        )
        try:
            url.finish()
        except InvalidValue:
            device.close()
            raise
        return device

    @property
    def charge_account(self) -> ChargeAccount:
        return self.charge

    def _set_charge_account(self, account: ChargeAccount) -> None:
        self.charge = account

    @classmethod
    def availability(cls) -> str | None:
        if importlib.util.find_spec("sounddevice") is None:
            return "install microamp[audio] (the sounddevice package is missing)"
        try:
            import sounddevice  # noqa: F401
        except OSError as exc:  # the package is there (other packages pull it in), PortAudio not
            return f"install microamp[audio] and PortAudio (libportaudio2): sounddevice says {exc}"
        return None

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    # -- driver hooks --------------------------------------------------------------------------

    def _apply(self, command: Command) -> None:
        self._check_coupling(command.waveform)
        peak_ua = self.ceiling_ua(command)
        limits = GuardLimits.from_profile(self.profile, peak_ua=peak_ua)
        with self._lock:
            if self._renderer is None or self._guard is None:
                rate = self._caps.sample_rate_hz or 48_000.0
                self._renderer = Renderer(
                    command.waveform,
                    rate,
                    envelope=Envelope(),
                    intensity=command.intensity,
                    max_slew_ua_s=self.profile.max_slew_ua_s.value,
                )
                self._guard = OutputGuard(limits, rate, self.charge)
                return
            self._guard.set_limits(limits)
            if command.waveform != self._renderer.waveform:
                self._renderer.set_waveform(command.waveform)
            self._renderer.set_intensity(command.intensity)

    def _stop(self) -> None:
        with self._lock:
            self._renderer = None
            self._guard = None

    def _advance(self) -> None:
        while self._pending:
            self._raise_fault(self._pending.popleft())

    def _read(self) -> list[TelemetryFrame]:
        frames = []
        while self._frames:
            frames.append(self._frames.popleft())
        return frames

    def _close(self) -> None:
        self._stream.stop()
        self._stream.close()

    # -- coupling ------------------------------------------------------------------------------

    def _check_coupling(self, waveform: Waveform) -> None:
        """Refuse, with the reason, a waveform an AC-coupled output cannot carry."""
        if self._caps.coupling == "dc":
            return
        fc = self.highpass_hz
        tau_s = 1.0 / (2.0 * math.pi * fc)
        where = f"an AC-coupled output (high-pass {fc:g} Hz)"
        if waveform.shape in ("sine", "triangle"):
            gain = waveform.frequency_hz / math.hypot(waveform.frequency_hz, fc)
            if gain < MIN_SINE_GAIN:
                lowest = fc * MIN_SINE_GAIN / math.sqrt(1 - MIN_SINE_GAIN**2)
                raise InvalidValue(
                    "frequency_hz",
                    waveform.frequency_hz,
                    f"{where} passes only {gain:.0%} of it; use at least {lowest:.3g} Hz",
                )
            return
        max_hold_s = -tau_s * math.log(1 - MAX_DROOP)
        if waveform.polarity in ("positive", "negative"):
            raise InvalidValue(
                "polarity", waveform.polarity, f"{where} cannot carry a DC component: use biphasic"
            )
        if waveform.polarity == "alternating" and waveform.reversal_s > max_hold_s:
            raise InvalidValue(
                "reversal_s",
                waveform.reversal_s,
                f"{where} cannot hold one polarity that long; at most {max_hold_s:.3g} s, or use biphasic",
            )
        phase_s = waveform.on_fraction / waveform.frequency_hz / 2.0
        if waveform.polarity == "biphasic" and phase_s > max_hold_s:
            raise InvalidValue(
                "frequency_hz",
                waveform.frequency_hz,
                f"{where} droops more than {MAX_DROOP:.0%} over each {phase_s * 1000:.3g} ms phase; shorten the phases (raise the frequency or lower the duty)",
            )

    # -- the real-time path --------------------------------------------------------------------

    def _callback(self, outdata: npt.NDArray[Any], frames: int, time: Any, status: Any) -> None:
        """Fill one block. Runs on the audio thread: never blocks, never raises."""
        if not self._lock.acquire(blocking=False):
            outdata.fill(0)
            return
        try:
            samples = self._render_block(frames)
        finally:
            self._lock.release()
        if samples is None:
            outdata.fill(0)
            self.charge.idle(frames)
            self._meter(np.zeros(frames))
            return
        outdata[:, 0] = samples / self.full_scale_ua
        if outdata.shape[1] > 1:
            outdata[:, 1:] = 0
        self._meter(samples)

    def _render_block(self, frames: int) -> npt.NDArray[np.float64] | None:
        renderer, guard = self._renderer, self._guard
        if renderer is None or guard is None:
            return None
        now = self.clock.now()
        expires = self._expires_at_s
        if expires is not None and now >= expires:
            self._renderer = self._guard = None
            self._pending.append(
                Fault.of(
                    FaultCode.COMMAND_EXPIRED, onset_t_s=expires, detected_t_s=now, zero_t_s=now
                )
            )
            return None
        block = renderer.render(frames)
        samples = guard.process(block.samples_ua, block.envelope_ua).copy()
        if guard.fault is not None:
            self._renderer = self._guard = None
            self._pending.append(
                Fault.of(
                    guard.fault.code,
                    detected_t_s=now,
                    zero_t_s=now,
                    detail=dict(guard.fault.detail),
                )
            )
        return samples

    def _meter(self, samples: npt.NDArray[np.float64]) -> None:
        rate = self._caps.sample_rate_hz or 48_000.0
        self._rendered += samples.size
        mean_ua = float(np.mean(np.abs(samples))) if samples.size else 0.0
        peak_ua = float(np.max(np.abs(samples))) if samples.size else 0.0
        self._frames.append(
            TelemetryFrame(
                t_s=self._origin_s + self._rendered / rate,
                commanded_ua=mean_ua,
                delivered_ua=mean_ua,
                peak_ua=peak_ua,
                voltage_v=math.nan,
                impedance_ohm=math.nan,
                flags=frozenset({"unmeasured"}),
                window_s=samples.size / rate,
            )
        )
