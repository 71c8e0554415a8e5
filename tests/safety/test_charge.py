"""`ChargeAccount`: net charge and the mean DC per interval, across blocks, commands and pauses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.charge import ChargeAccount

RATE_HZ = 1000.0
WINDOW_S = 0.1  # 100 samples: small enough to check every interval by brute force


def _account(imbalance_uc: float = 1.0, dc_ua: float = 5000.0) -> ChargeAccount:
    return ChargeAccount(
        RATE_HZ, max_imbalance_uc=imbalance_uc, max_mean_dc_ua=dc_ua, dc_window_s=WINDOW_S
    )


def _worst_interval_uc(samples_ua: np.ndarray, window: int) -> float:
    """The largest |net charge| of any interval of at most ``window`` samples (brute force)."""
    charge = np.concatenate(([0.0], np.cumsum(samples_ua))) / RATE_HZ
    worst = 0.0
    for length in range(1, min(window, samples_ua.size) + 1):
        worst = max(worst, float(np.max(np.abs(charge[length:] - charge[:-length]))))
    return worst


steps = st.lists(
    st.one_of(
        hnp.arrays(np.float64, st.integers(1, 300), elements=st.floats(-400.0, 400.0)),
        st.integers(1, 400),  # output stopped for this many samples
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.requirement("SAF-CHARGE-01", "SAF-CHARGE-02")
@given(
    steps=steps,
    imbalance_uc=st.floats(0.0, 50.0),
    dc_ua=st.floats(0.0, 400.0),
)
def test_what_the_account_admits_never_passes_either_limit(
    steps: list[np.ndarray | int], imbalance_uc: float, dc_ua: float
) -> None:
    account = _account(imbalance_uc, dc_ua)
    admitted: list[np.ndarray] = []
    for step in steps:
        if isinstance(step, int):
            account.idle(step)
            admitted.append(np.zeros(step))
            continue
        block = step.copy()
        block[account.admit(block) :] = 0.0
        admitted.append(block)
    out = np.concatenate(admitted)
    net = np.cumsum(out) / RATE_HZ
    assert np.max(np.abs(net)) <= imbalance_uc + 1e-9
    assert account.net_uc == pytest.approx(float(net[-1]), abs=1e-9)
    window = round(WINDOW_S * RATE_HZ)
    assert _worst_interval_uc(out, window) <= dc_ua * WINDOW_S + 1e-9


def test_steady_one_way_current_breaks_the_imbalance_at_the_sample_that_passes_it() -> None:
    account = _account(imbalance_uc=1.0)
    block = np.full(20, 100.0)  # 0.1 µC a sample
    assert account.admit(block[:5]) == 5
    assert account.admit(block) == 5  # the 11th sample would make 1.1 µC
    assert account.net_uc == pytest.approx(1.0)


def test_a_pause_keeps_the_charge_and_the_account_survives_every_block() -> None:
    account = _account(imbalance_uc=1.0)
    assert account.admit(np.full(8, 100.0)) == 8
    account.idle(10_000)
    assert account.net_uc == pytest.approx(0.8)
    assert account.admit(np.full(4, 100.0)) == 2


def test_charge_flowing_back_makes_room_again() -> None:
    account = _account(imbalance_uc=1.0)
    assert account.admit(np.full(10, 100.0)) == 10
    assert account.admit(np.full(10, -100.0)) == 10
    assert account.admit(np.full(10, 100.0)) == 10
    assert account.net_uc == pytest.approx(1.0)


@pytest.mark.requirement("SAF-CHARGE-02")
def test_a_swing_from_one_side_to_the_other_breaks_the_mean_dc_limit() -> None:
    # net charge stays within +-0.6 µC, but 1 µC moves within one 0.1 s window: 10 µA mean DC
    account = _account(imbalance_uc=0.6, dc_ua=8.0)
    assert account.admit(np.full(6, -100.0)) == 6  # -0.6 µC
    breach = account.admit(np.full(12, 100.0))
    assert breach == 8  # -0.6 + 0.8 = 0.2 µC: the ninth sample would make 0.9 µC in 0.1 s


def test_the_window_forgets_charge_older_than_its_length() -> None:
    account = _account(imbalance_uc=100.0, dc_ua=10.0)  # 1 µC per 0.1 s
    assert account.admit(np.full(10, 100.0)) == 10
    account.idle(200)  # 0.2 s later the first µC is out of every window
    assert account.admit(np.full(10, 100.0)) == 10


def test_the_account_comes_from_the_profile() -> None:
    home = get_profile("home")
    account = ChargeAccount.from_profile(home, 20_000.0)
    assert account.max_imbalance_uc == home.max_imbalance_uc.value
    assert account.max_window_uc == home.max_mean_dc_ua.value * home.dc_window_s.value


def test_an_account_refuses_a_window_of_zero() -> None:
    with pytest.raises(InvalidValue):
        ChargeAccount(RATE_HZ, max_imbalance_uc=1.0, dc_window_s=0.0)


@pytest.mark.requirement("SAF-CHARGE-03")
def test_a_new_session_starts_a_fresh_account_only_after_a_rest_without_output() -> None:
    account = _account(imbalance_uc=1.0)
    assert account.admit(np.full(9, 100.0)) == 9
    account.idle(round(30.0 * RATE_HZ))
    with pytest.raises(InvalidValue) as refused:
        account.start_session()
    assert refused.value.field == "rest_s"
    assert account.net_uc == pytest.approx(0.9)
    account.idle(round(30.0 * RATE_HZ))
    account.start_session()
    assert account.net_uc == 0.0
    assert account.admit(np.full(9, 100.0)) == 9


def test_zeros_inside_a_block_count_towards_the_rest_only_after_the_last_current() -> None:
    account = _account(imbalance_uc=100.0)
    block = np.zeros(1000)
    block[10] = 1.0
    account.admit(block)
    assert account.rest_s == pytest.approx(989 / RATE_HZ)
