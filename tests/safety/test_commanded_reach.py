"""`CommandedCharge` counts at least what the firmware delivers: its ramp is the slew limit's,
not an envelope's, and its look-ahead covers exactly the life of the command, not a sample more.

On the home profile (400 µA/s slew, 1000 µC limits) a one-way 100 µA command reaches its level
in 0.25 s; a 1 s envelope ramp would reach it four times later and count a quarter of the charge
of the first 0.25 s, less than any firmware that ramps at the slew limit delivers.
"""

from __future__ import annotations

import numpy as np
import pytest

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.commanded import SHADOW_RATE_HZ, CommandedCharge
from microamp.stimulus import Waveform

HOME = get_profile("home")
SLEW_UA_S = HOME.max_slew_ua_s.value  # 400 µA/s
ONE_WAY_100 = Waveform(
    shape="square", amplitude_ua=100.0, frequency_hz=10.0, duty=1.0, polarity="positive"
)
ONE_WAY_400 = Waveform(
    shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0, polarity="positive"
)
SAMPLE_UC_AT_400 = 400.0 / SHADOW_RATE_HZ  # 0.02 µC a sample


def test_a_new_command_ramps_at_the_slew_limit_even_below_full_scale() -> None:
    charge = CommandedCharge(HOME)
    renderer = charge.check(ONE_WAY_100, 1.0, 0.5, 0.0)
    ramp_samples = round(100.0 / SLEW_UA_S * SHADOW_RATE_HZ)  # 5000: 0.25 s
    samples = renderer.render(ramp_samples + 10).samples_ua
    np.testing.assert_allclose(samples[:ramp_samples], np.arange(ramp_samples) * 0.02)
    assert samples[ramp_samples:] == pytest.approx(100.0)


def test_the_charge_counted_for_a_new_command_is_that_of_a_slew_limited_ramp() -> None:
    charge = CommandedCharge(HOME)
    charge.start(charge.check(ONE_WAY_100, 1.0, 1.0, 0.0), 1.0)
    charge.advance(0.5)
    # 0.25 s ramping to 100 µA (12.5 µC), then 0.25 s at 100 µA (25 µC)
    assert charge.net_uc == pytest.approx(37.5, abs=0.01)


def _one_way_until(samples: int) -> CommandedCharge:
    """A one-way 400 µA command left in force for 10 s (checked over its first 0.5 s only),
    accounted up to ``samples``."""
    charge = CommandedCharge(HOME)
    charge.start(charge.check(ONE_WAY_400, 1.0, 0.5, 0.0), 10.0)
    charge.advance(samples / SHADOW_RATE_HZ)
    return charge


def test_a_command_with_a_life_of_one_sample_is_checked_over_that_sample_only() -> None:
    # 199.99 µC after the 1 s ramp (20,000 samples), then 0.02 µC a sample: 999.97 µC after
    # 59,999 samples, so the next sample stays within 1000 µC and the one after would not
    charge = _one_way_until(59_999)
    assert charge.net_uc == pytest.approx(1000.0 - 1.5 * SAMPLE_UC_AT_400, abs=1e-6)
    one_sample_s = 1.0 / SHADOW_RATE_HZ
    now_s = 59_999 / SHADOW_RATE_HZ
    renderer = charge.check(ONE_WAY_400, 1.0, one_sample_s, now_s)
    assert renderer.level_ua == pytest.approx(400.0)
    with pytest.raises(InvalidValue, match="net-charge limits"):
        charge.check(ONE_WAY_400, 1.0, 2 * one_sample_s, now_s)


def test_a_renewal_looks_ahead_without_moving_the_command_in_force() -> None:
    charge = _one_way_until(40_000)
    before = charge.net_uc
    assert charge.renew(2.0, 0.5)
    charge.advance(2.5)
    # the look-ahead rendered 0.5 s on a copy; the command went on from 2.0 s, not from 2.5 s
    assert charge.net_uc - before == pytest.approx(0.5 * 400.0, abs=0.01)
