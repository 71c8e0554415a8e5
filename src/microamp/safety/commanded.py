"""`CommandedCharge`: the host's net-charge account for a device that renders its own output.

A firmware that renders the waveform itself (the serial backend) sends the host no samples, so
the host keeps the same `ChargeAccount` from what it commanded: it renders each command in force
from the same `Waveform`, at the sim's rate, for exactly the time the command was in force
(until stopped, replaced or expired). Its ramp follows only the profile's slew limit, at least
as fast as any device ramps, so it never counts less charge than the device delivers.

Commands expire, so the host can look ahead: before a command starts, and before each renewal,
the command is rendered over its whole life (``expires_after_s``) on a copy of the account.
A command that would pass a limit within that time is refused (a new command) or not renewed
(output stops and the caller records the fault): refused rather than tripped later, because the
host cannot cut a firmware's output at the offending sample, only before it.
"""

from __future__ import annotations

import copy
import math

from microamp.errors import InvalidValue
from microamp.safety.charge import ChargeAccount
from microamp.safety.limits import LimitProfile
from microamp.stimulus.renderer import Envelope, Renderer
from microamp.stimulus.waveform import Waveform

__all__ = ["CommandedCharge"]

# Pulses of a few hundred µs must render as they will be delivered: the sim's own rate.
SHADOW_RATE_HZ = 20_000.0


class CommandedCharge:
    """The host's account of the net charge it has commanded, on device time (seconds)."""

    def __init__(self, profile: LimitProfile, sample_rate_hz: float = SHADOW_RATE_HZ) -> None:
        self.profile = profile
        self.account = ChargeAccount.from_profile(profile, sample_rate_hz)
        self._rate_hz = float(sample_rate_hz)
        # the command in force and the sample it expires at: set and cleared together
        self._command: tuple[Renderer, int] | None = None
        self._accounted = 0  # samples accounted so far, from device time 0

    @property
    def net_uc(self) -> float:
        return self.account.net_uc

    def check(
        self, waveform: Waveform, intensity: float, expires_after_s: float, now_s: float
    ) -> Renderer:
        """The renderer a new command continues with; `InvalidValue` if it would pass a limit.

        Nothing changes on a refusal: the command in force stays in force.
        """
        self.advance(now_s)
        if self._command is None:
            renderer = Renderer(
                waveform,
                self._rate_hz,
                envelope=Envelope(ramp_up_s=0.0, ramp_down_s=0.0),
                intensity=intensity,
                max_slew_ua_s=self.profile.max_slew_ua_s.value,
            )
        else:
            renderer = copy.deepcopy(self._command[0])
            if waveform != renderer.waveform:
                renderer.set_waveform(waveform)
            renderer.set_intensity(intensity)
        breach_s = self._breach_within(renderer, waveform.amplitude_ua, expires_after_s)
        if breach_s is not None:
            raise InvalidValue(
                "polarity",
                waveform.polarity,
                f"would pass the {self.profile.name} profile's net-charge limits within "
                f"{breach_s:.2f} s ({self.account.net_uc:.0f} µC of "
                f"{self.account.max_imbalance_uc:g} µC already; at most "
                f"{self.account.max_window_uc / self.account.dc_window_s:g} µA mean DC over "
                f"{self.account.dc_window_s:g} s): use alternating or biphasic polarity",
            )
        return renderer

    def start(self, renderer: Renderer, expires_at_s: float) -> None:
        """The command checked by `check` is in force until ``expires_at_s``."""
        self._command = (renderer, self._index(expires_at_s))

    def renew(self, now_s: float, expires_after_s: float) -> bool:
        """Extend the command in force; False (and nothing renewed) if it would pass a limit."""
        self.advance(now_s)
        if self._command is None:
            return True
        renderer = self._command[0]
        # the look-ahead renders a copy: the command goes on from where it is
        if self._breach_within(renderer, renderer.waveform.amplitude_ua, expires_after_s):
            return False
        self._command = (renderer, self._index(now_s + expires_after_s))
        return True

    def stop(self, now_s: float) -> None:
        """Output is zero from ``now_s``."""
        self.advance(now_s)
        self._command = None

    def advance(self, now_s: float) -> None:
        """Account the command in force up to ``now_s`` (zero after it expired)."""
        target = self._index(now_s)
        n = target - self._accounted
        if n <= 0:
            return
        live = 0
        if self._command is not None:
            renderer, expires = self._command
            live = max(0, min(n, expires - self._accounted))
            if live:
                self.account.admit(renderer.render(live).samples_ua)
            if target >= expires:
                self._command = None
        self.account.idle(n - live)
        self._accounted = target

    def _breach_within(
        self, renderer: Renderer, amplitude_ua: float, horizon_s: float
    ) -> float | None:
        """Seconds until ``renderer`` would pass a limit within ``horizon_s``, or None."""
        n = max(1, round(horizon_s * self._rate_hz))
        # far from both limits even at full amplitude all the way: no need to render
        reach_uc = amplitude_ua * n / self._rate_hz
        low, high = self.account.window_span_uc()
        if (
            abs(self.account.net_uc) + reach_uc <= self.account.max_imbalance_uc
            and high - low + reach_uc <= self.account.max_window_uc
        ):
            return None
        # the look-ahead runs on copies: the command itself starts from where it is now
        trial = copy.deepcopy(self.account)
        breach = trial.admit(copy.deepcopy(renderer).render(n).samples_ua)
        return breach / self._rate_hz if breach < n else None

    def _index(self, t_s: float) -> int:
        return math.floor(t_s * self._rate_hz + 1e-6)
