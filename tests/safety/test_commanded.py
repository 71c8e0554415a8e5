"""`CommandedCharge`: the host accounts what a self-rendering device was told to deliver, and
refuses or does not renew a command that would pass the profile's net-charge limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.commanded import CommandedCharge
from microamp.stimulus import Waveform

HOME = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0)
POSITIVE = Waveform.from_dict({**STEADY.to_dict(), "polarity": "positive"})
NEGATIVE = Waveform.from_dict({**STEADY.to_dict(), "polarity": "negative"})


def _run(charge: CommandedCharge, waveform: Waveform, until_s: float, now_s: float) -> float:
    """Apply at ``now_s`` and renew every 0.1 s until ``until_s`` or a refusal; the time reached."""
    charge.start(charge.check(waveform, 1.0, 0.5, now_s), now_s + 0.5)
    while now_s < until_s:
        now_s = round(now_s + 0.1, 6)
        if not charge.renew(now_s, 0.5):
            charge.stop(now_s)
            break
    return now_s


def test_one_way_current_is_not_renewed_before_the_imbalance_limit() -> None:
    charge = CommandedCharge(HOME)
    stopped_s = _run(charge, POSITIVE, 10.0, 0.0)
    assert stopped_s < 10.0
    # renewed only while the whole next half second stays within 1000 µC
    assert charge.net_uc <= HOME.max_imbalance_uc.value
    assert charge.net_uc > HOME.max_imbalance_uc.value - 400.0 * 0.6


def test_a_new_one_way_command_after_a_stop_is_refused_and_the_account_kept() -> None:
    charge = CommandedCharge(HOME)
    stopped_s = _run(charge, POSITIVE, 10.0, 0.0)
    net_uc = charge.net_uc
    # a minute's rest changes nothing: the next 2 s of one-way current would pass the limit
    with pytest.raises(InvalidValue) as refused:
        charge.check(POSITIVE, 1.0, 2.0, stopped_s + 60.0)
    assert refused.value.field == "polarity"
    assert charge.net_uc == pytest.approx(net_uc)
    # the opposite polarity brings the charge back: allowed
    charge.check(NEGATIVE, 0.5, 0.5, stopped_s + 60.0)


def test_alternating_polarity_runs_a_whole_home_session() -> None:
    charge = CommandedCharge(HOME)
    assert _run(charge, STEADY, 120.0, 0.0) >= 120.0
    assert abs(charge.net_uc) < 1000.0


@pytest.mark.requirement("SAF-CHARGE-04")
@settings(max_examples=20)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["positive", "negative", "alternating", "biphasic"]),
            st.floats(0.2, 1.0),
            st.floats(0.1, 6.0),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_no_sequence_of_commands_passes_the_host_account(
    steps: list[tuple[str, float, float]],
) -> None:
    charge = CommandedCharge(HOME, sample_rate_hz=2000.0)
    now_s = 0.0
    for polarity, intensity, hold_s in steps:
        waveform = Waveform.from_dict({**STEADY.to_dict(), "polarity": polarity})
        try:
            charge.start(charge.check(waveform, intensity, 0.5, now_s), now_s + 0.5)
        except InvalidValue:
            continue
        end_s = now_s + hold_s
        while now_s < end_s:
            now_s = round(now_s + 0.1, 6)
            if not charge.renew(now_s, 0.5):
                charge.stop(now_s)
                break
            assert abs(charge.net_uc) <= HOME.max_imbalance_uc.value
        charge.stop(now_s)
    charge.advance(now_s + 1.0)
    assert abs(charge.net_uc) <= HOME.max_imbalance_uc.value
