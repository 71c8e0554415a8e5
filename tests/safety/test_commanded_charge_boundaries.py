"""`CommandedCharge` at its boundaries: the sample a command expires, stops or is renewed to, the
horizon a new command is checked over, and what a refusal leaves in force.

On the home profile a one-way 400 µA command ramps at 400 µA/s: 200 µC after 1 s, then 400 µC
a second, so it passes the 1000 µC limits 3 s after it starts.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.commanded import SHADOW_RATE_HZ, CommandedCharge
from microamp.stimulus import Waveform
from microamp.stimulus.renderer import Envelope, Renderer

HOME = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0)
POSITIVE = Waveform.from_dict({**STEADY.to_dict(), "polarity": "positive"})
NEGATIVE = Waveform.from_dict({**STEADY.to_dict(), "polarity": "negative"})


def _delivered_uc(n: int, intensity: float = 1.0) -> float:
    """The charge of the first ``n`` samples of a one-way command from rest (reference)."""
    renderer = Renderer(
        POSITIVE,
        SHADOW_RATE_HZ,
        envelope=Envelope(ramp_up_s=0.0, ramp_down_s=0.0),
        intensity=intensity,
        max_slew_ua_s=HOME.max_slew_ua_s.value,
    )
    return float(np.sum(renderer.render(n).samples_ua)) / SHADOW_RATE_HZ


def _started(expires_at_s: float, intensity: float = 1.0) -> CommandedCharge:
    charge = CommandedCharge(HOME)
    charge.start(charge.check(POSITIVE, intensity, 0.5, 0.0), expires_at_s)
    return charge


def test_a_new_command_renders_from_rest_at_the_slew_limit_and_its_intensity() -> None:
    charge = CommandedCharge(HOME)
    renderer = charge.check(POSITIVE, 0.5, 0.5, 0.0)
    assert renderer.waveform == POSITIVE
    samples = renderer.render(30000).samples_ua
    reference = Renderer(
        POSITIVE,
        SHADOW_RATE_HZ,
        envelope=Envelope(ramp_up_s=0.0, ramp_down_s=0.0),
        intensity=0.5,
        max_slew_ua_s=HOME.max_slew_ua_s.value,
    ).render(30000)
    np.testing.assert_array_equal(samples, reference.samples_ua)
    assert samples[-1] == pytest.approx(200.0)
    assert charge.account.sample_rate_hz == SHADOW_RATE_HZ


def test_device_time_is_counted_in_whole_samples_despite_float_error() -> None:
    # 0.57 s x 20 kHz is 11399.999999999998 in floating point: sample 11400
    charge = CommandedCharge(HOME)
    charge.advance(0.57)
    assert charge.account.samples == 11400
    charge.advance(0.57)
    charge.advance(0.2)
    assert charge.account.samples == 11400


def test_a_command_is_accounted_to_its_expiry_sample_and_not_after() -> None:
    charge = _started(0.5)
    charge.advance(0.5)
    assert charge.net_uc == pytest.approx(_delivered_uc(10000), rel=1e-12)
    charge.advance(2.0)
    assert charge.account.samples == 40000
    assert charge.net_uc == pytest.approx(_delivered_uc(10000), rel=1e-12)
    # the expired command is gone: renewing it brings nothing back
    assert charge.renew(2.0, 0.5)
    charge.advance(3.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(10000), rel=1e-12)


def test_a_command_advanced_past_its_expiry_counts_only_its_live_samples() -> None:
    charge = _started(0.5)
    charge.advance(0.3)
    charge.advance(0.9)
    assert charge.net_uc == pytest.approx(_delivered_uc(10000), rel=1e-12)
    assert charge.account.rest_s == pytest.approx(0.4)


def test_a_stopped_command_delivers_nothing_after_the_stop() -> None:
    charge = _started(10.0)
    charge.stop(0.25)
    charge.advance(1.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(5000), rel=1e-12)
    assert charge.renew(1.0, 0.5)
    charge.advance(2.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(5000), rel=1e-12)


def test_a_renewal_extends_the_command_to_now_plus_its_life() -> None:
    charge = _started(0.5)
    assert charge.renew(0.4, 0.5)
    charge.advance(2.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(18000), rel=1e-12)


def test_the_last_renewal_is_the_one_whose_life_stays_within_the_limit() -> None:
    charge = _started(0.45)
    now_s = 0.0
    while True:
        now_s = round(now_s + 0.1, 6)
        if not charge.renew(now_s, 0.45):
            break
    # renewed at 2.5 s to 2.95 s; at 2.6 s the next 0.45 s would reach 3.05 s
    assert now_s == 2.6
    charge.advance(5.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(59000), rel=1e-12)
    assert charge.net_uc <= HOME.max_imbalance_uc.value


def test_a_command_is_refused_when_its_whole_life_would_pass_the_limit() -> None:
    charge = CommandedCharge(HOME)
    charge.check(POSITIVE, 1.0, 2.99, 0.0)
    with pytest.raises(InvalidValue) as refused:
        charge.check(POSITIVE, 1.0, 3.01, 0.0)
    assert refused.value.field == "polarity"
    assert refused.value.value == "positive"
    rule = refused.value.rule
    assert "home profile's net-charge limits within 3.00 s" in rule
    assert "(0 µC of 1000 µC already; at most 100 µA mean DC over 10 s)" in rule


def test_a_far_horizon_is_checked_even_when_no_charge_has_flowed() -> None:
    charge = CommandedCharge(HOME)
    with pytest.raises(InvalidValue):
        charge.check(POSITIVE, 1.0, 60.0, 0.0)


def test_a_refused_command_leaves_the_command_in_force_unchanged() -> None:
    charge = _started(10.0, intensity=0.5)
    with pytest.raises(InvalidValue):
        charge.check(POSITIVE, 1.0, 8.0, 1.0)
    charge.advance(2.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(40000, intensity=0.5), rel=1e-12)


def test_a_new_waveform_replaces_the_one_in_force_in_the_renderer_returned() -> None:
    charge = CommandedCharge(HOME)
    charge.start(charge.check(STEADY, 1.0, 0.5, 0.0), 0.5)
    renderer = charge.check(NEGATIVE, 0.5, 0.5, 0.1)
    assert renderer.waveform == NEGATIVE
    follow_on = charge.check(STEADY, 1.0, 0.5, 0.1)
    assert follow_on.waveform == STEADY


def test_a_check_continues_the_command_in_force_from_where_it_is() -> None:
    charge = _started(10.0)
    renderer = charge.check(POSITIVE, 1.0, 0.5, 0.5)
    in_force = copy.deepcopy(renderer)
    # half a second in, the ramp is at 200 µA: it goes on from there, not from rest
    first = float(in_force.render(1).samples_ua[0])
    assert first == pytest.approx(200.0, abs=0.1)


def test_a_zero_horizon_still_checks_the_next_sample() -> None:
    charge = _started(10.0)
    charge.advance(2.99)
    assert charge.renew(2.99, 0.0)
    charge.stop(2.99)
    assert charge.net_uc < HOME.max_imbalance_uc.value


def test_a_command_within_the_imbalance_limit_is_refused_for_the_window_rule() -> None:
    # down to -500 µC, back up to 0: the window already spans 500 µC of the 1000 allowed
    charge = CommandedCharge(HOME)
    charge.start(charge.check(NEGATIVE, 1.0, 1.75, 0.0), 10.0)
    charge.stop(1.75)
    # the positive command ramps up from rest at the slew limit: back at 0 µC at 3.5 s
    charge.start(charge.check(POSITIVE, 1.0, 1.75, 1.75), 10.0)
    charge.advance(3.5)
    assert charge.net_uc == pytest.approx(0.0, abs=1.0)
    assert charge.account.window_span_uc() == pytest.approx((-500.0, 0.0), abs=1.0)
    # 2 s more at 400 µA stays within 1000 µC net but rises 1300 µC within the window
    with pytest.raises(InvalidValue) as refused:
        charge.check(POSITIVE, 1.0, 2.0, 3.5)
    assert "within 1.25 s" in refused.value.rule
    assert not charge.renew(3.5, 2.0)
    assert charge.renew(3.5, 1.2)


def test_a_command_that_expired_at_the_present_sample_cannot_be_renewed() -> None:
    charge = _started(0.5)
    charge.advance(0.5)
    assert charge.renew(0.5, 0.5)  # nothing in force: nothing to renew
    charge.advance(2.0)
    assert charge.net_uc == pytest.approx(_delivered_uc(10000), rel=1e-12)


def test_a_command_started_with_its_expiry_already_past_delivers_nothing() -> None:
    charge = _started(10.0)
    charge.advance(1.5)
    net_uc = charge.net_uc
    charge.start(charge.check(POSITIVE, 1.0, 0.5, 1.5), 1.4)
    charge.advance(2.0)
    assert charge.net_uc == net_uc


def test_looking_ahead_leaves_the_account_itself_untouched() -> None:
    charge = CommandedCharge(HOME)
    # 2.9 s at full amplitude could pass 1000 µC: the life is rendered on a trial account
    charge.start(charge.check(POSITIVE, 1.0, 2.9, 0.0), 10.0)
    charge.advance(0.1)
    # one-way charge only rises: the span reaches the present charge, not the trial's
    assert charge.account.window_span_uc() == (0.0, charge.net_uc)
    assert charge.account.samples == 2000
