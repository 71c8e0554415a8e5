"""The host's look-ahead over a command's life renders on a copy: the account then follows the
command from its own start, whatever horizon it was checked over."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.safety import get_profile
from microamp.safety.commanded import CommandedCharge
from microamp.stimulus import Waveform

HOME = get_profile("home")
# alternating every 0.25 s: little net charge, so a long horizon is allowed, but one whose
# reach (400 µA all the way) passes the limits' margin, so the look-ahead is rendered
ALTERNATING = Waveform(
    shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0, reversal_s=0.25
)


def _charge_after(horizon_s: float, elapsed_s: float) -> float:
    charge = CommandedCharge(HOME)
    charge.start(charge.check(ALTERNATING, 1.0, horizon_s, 0.0), 0.5)
    charge.advance(elapsed_s)
    return charge.account.net_uc


@given(horizon_s=st.floats(2.6, 2.9))
def test_the_charge_accounted_does_not_depend_on_the_horizon_checked(horizon_s: float) -> None:
    # a long horizon renders the look-ahead, a short one does not: both must account the same
    # first 0.3 s of the command (past its first reversal), from its start ramp
    assert _charge_after(horizon_s, 0.3) == pytest.approx(_charge_after(0.05, 0.3), rel=1e-9)
