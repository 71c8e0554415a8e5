"""`ChargeAccount` at its exact boundaries: limits met vs just passed, the first breaching
sample, the rest before a new session, the window's reach and the span after idle time.

The rate is 1024 Hz so that one sample of an integer current is an exact binary fraction of a
µC: every charge below is exact and a limit can be met to the last bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.charge import CHUNK_S, MIN_REST_S, ChargeAccount
from microamp.safety.limits import profile_from_dict

RATE_HZ = 1024.0
UC = 1.0 / RATE_HZ  # µC carried by one sample of 1 µA
WINDOW_S = 0.125  # 128 samples
WINDOW = 128
CHUNK = round(CHUNK_S * RATE_HZ)  # 10 samples


def _account(imbalance_uc: float = 1000.0, dc_ua: float = math.inf) -> ChargeAccount:
    return ChargeAccount(
        RATE_HZ, max_imbalance_uc=imbalance_uc, max_mean_dc_ua=dc_ua, dc_window_s=WINDOW_S
    )


def _ua(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("rate_hz", [0.0, -1.0, math.inf, math.nan])
def test_a_sample_rate_that_is_not_positive_and_finite_is_refused(rate_hz: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        ChargeAccount(rate_hz, max_imbalance_uc=1.0)
    assert caught.value.field == "sample_rate_hz"
    assert caught.value.value is rate_hz
    assert caught.value.rule == "must be greater than 0 Hz"


@pytest.mark.parametrize("field", ["max_imbalance_uc", "max_mean_dc_ua"])
@pytest.mark.parametrize("value", [-1e-9, math.nan])
def test_a_negative_limit_is_refused_by_name(field: str, value: float) -> None:
    limits = {"max_imbalance_uc": 1.0, "max_mean_dc_ua": 1.0, field: value}
    with pytest.raises(InvalidValue) as caught:
        ChargeAccount(RATE_HZ, **limits)
    assert caught.value.field == field
    assert caught.value.value is value
    assert caught.value.rule == "must be at least 0"


def test_limits_of_exactly_zero_are_accepted_and_refuse_any_charge() -> None:
    account = ChargeAccount(RATE_HZ, max_imbalance_uc=0.0, max_mean_dc_ua=0.0, dc_window_s=1.0)
    assert account.admit(_ua(0.0, 0.0, 1.0)) == 2


@pytest.mark.parametrize("window_s", [0.0, -0.1, math.inf, math.nan])
def test_a_window_that_is_not_positive_and_finite_is_refused(window_s: float) -> None:
    with pytest.raises(InvalidValue) as caught:
        ChargeAccount(RATE_HZ, max_imbalance_uc=1.0, dc_window_s=window_s)
    assert caught.value.field == "dc_window_s"
    assert caught.value.value is window_s
    assert caught.value.rule == "must be greater than 0 s"


def test_the_window_charge_is_the_mean_current_times_the_window() -> None:
    account = ChargeAccount(RATE_HZ, max_imbalance_uc=2.0, max_mean_dc_ua=3.0, dc_window_s=4.0)
    assert account.sample_rate_hz == RATE_HZ
    assert account.max_imbalance_uc == 2.0
    assert account.max_window_uc == 12.0
    assert account.dc_window_s == 4.0
    assert isinstance(account.sample_rate_hz, float)


def test_a_default_account_has_no_mean_dc_limit_and_a_ten_second_window() -> None:
    account = ChargeAccount(RATE_HZ, max_imbalance_uc=2.0)
    assert account.max_window_uc == math.inf
    assert account.dc_window_s == 10.0


def test_an_account_from_a_profile_takes_its_three_limits() -> None:
    profile = get_profile("home")
    account = ChargeAccount.from_profile(profile, RATE_HZ)
    assert account.sample_rate_hz == RATE_HZ
    assert account.max_imbalance_uc == profile.max_imbalance_uc.value
    assert account.dc_window_s == profile.dc_window_s.value
    assert account.max_window_uc == pytest.approx(
        profile.max_mean_dc_ua.value * profile.dc_window_s.value
    )


def test_an_account_from_a_profile_takes_its_window() -> None:
    profile = profile_from_dict({"name": "short window", "limits": {"dc_window_s": 2.0}})
    account = ChargeAccount.from_profile(profile, RATE_HZ)
    assert account.dc_window_s == 2.0
    assert account.max_window_uc == pytest.approx(profile.max_mean_dc_ua.value * 2.0)


def test_a_new_account_starts_at_zero_charge_with_a_zero_span() -> None:
    account = _account()
    assert account.net_uc == 0.0
    assert account.samples == 0
    assert account.rest_s == 0.0
    assert account.window_span_uc() == (0.0, 0.0)


# --- the imbalance limit ------------------------------------------------------------------


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_the_imbalance_limit_met_exactly_is_admitted(sign: float) -> None:
    account = _account(imbalance_uc=3.0)
    assert account.admit(np.full(3, sign * 1024.0)) == 3
    assert account.net_uc == sign * 3.0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_the_first_sample_past_the_imbalance_limit_is_the_offset_returned(sign: float) -> None:
    account = _account(imbalance_uc=3.0)
    assert account.admit(_ua(*(sign * 1024.0 for _ in range(3)), sign * 1.0, sign * 1.0)) == 3
    # samples from the offset on are accounted as zero
    assert account.net_uc == sign * 3.0
    assert account.samples == 5


def test_a_breach_on_the_first_sample_keeps_the_charge_before_the_block() -> None:
    account = _account(imbalance_uc=3.0)
    assert account.admit(np.full(2, 1024.0)) == 2
    assert account.admit(_ua(1025.0, 1.0, 0.0)) == 0
    assert account.net_uc == 2.0
    assert account.window_span_uc() == (0.0, 2.0)


def test_an_empty_block_admits_nothing_and_changes_nothing() -> None:
    account = _account()
    assert account.admit(np.empty(0)) == 0
    assert account.samples == 0
    assert account.net_uc == 0.0


# --- the window rule ----------------------------------------------------------------------


def test_the_window_charge_met_exactly_is_admitted_and_one_bit_more_is_not() -> None:
    # 4 µC allowed per 0.125 s window: 32 µA mean
    account = _account(dc_ua=32.0)
    assert account.admit(np.full(4, 1024.0)) == 4
    assert account.window_span_uc() == (0.0, 4.0)
    assert account.admit(_ua(0.0, 1.0)) == 1
    assert account.net_uc == 4.0


def test_a_fall_of_charge_is_held_to_the_window_limit_as_a_rise_is() -> None:
    account = _account(dc_ua=32.0)
    assert account.admit(np.full(4, -1024.0)) == 4
    assert account.admit(_ua(0.0, -1.0)) == 1


def test_charge_older_than_the_window_and_its_margin_no_longer_counts() -> None:
    account = _account(dc_ua=32.0)
    assert account.admit(np.full(4, 1024.0)) == 4
    # past the window and the chunked history's margin, the rise to 4 µC is forgotten
    account.idle(WINDOW + 3 * CHUNK)
    assert account.window_span_uc() == (4.0, 4.0)
    assert account.admit(np.full(4, 1024.0)) == 4
    assert account.net_uc == 8.0


def test_charge_within_the_window_still_counts_after_a_pause() -> None:
    account = _account(dc_ua=32.0)
    assert account.admit(np.full(4, 1024.0)) == 4
    account.idle(WINDOW - 10)
    assert account.admit(_ua(1.0)) == 0


# --- rest and start_session ---------------------------------------------------------------


def test_a_new_session_starts_after_exactly_the_minimum_rest() -> None:
    account = _account()
    account.admit(np.full(5, 1024.0))
    account.idle(round(MIN_REST_S * RATE_HZ))
    assert account.rest_s == MIN_REST_S
    account.start_session()
    assert account.net_uc == 0.0
    assert account.window_span_uc() == (0.0, 0.0)
    # the fresh account's history is zero too: a full window may flow again
    assert account.admit(np.full(5, 1024.0)) == 5


def test_a_new_session_one_sample_before_the_minimum_rest_is_refused() -> None:
    account = _account()
    account.admit(np.full(5, 1024.0))
    account.idle(round(MIN_REST_S * RATE_HZ) - 1)
    with pytest.raises(InvalidValue) as caught:
        account.start_session()
    assert caught.value.field == "rest_s"
    assert caught.value.value == round((MIN_REST_S * RATE_HZ - 1) / RATE_HZ, 3)
    assert f"{MIN_REST_S:g} s without output" in caught.value.rule
    assert account.net_uc == 5.0


def test_a_refused_new_session_reports_the_rest_to_the_millisecond() -> None:
    account = _account()
    account.idle(59 * 1024 + 3)  # 59.0029296875 s
    with pytest.raises(InvalidValue) as caught:
        account.start_session()
    assert caught.value.value == 59.003


def test_a_new_session_clears_the_whole_history_not_only_its_summary() -> None:
    account = _account()
    account.admit(_ua(2048.0, -4096.0))
    account.idle(round(MIN_REST_S * RATE_HZ))
    account.admit(_ua(-2048.0))
    account.idle(round(MIN_REST_S * RATE_HZ))
    account.start_session()
    # a block of whole chunks overwrites chunks: the span is recomputed from the history
    account.admit(np.zeros(3 * CHUNK))
    assert account.window_span_uc() == (0.0, 0.0)


def test_the_rest_counts_trailing_zeros_of_a_block() -> None:
    account = _account()
    account.admit(_ua(0.0, 5.0, 0.0, 0.0, 0.0))
    assert account.rest_s == 3 / RATE_HZ
    account.admit(np.zeros(4))
    assert account.rest_s == 7 / RATE_HZ


def test_a_block_ending_on_current_leaves_no_rest() -> None:
    account = _account()
    account.idle(50)
    assert account.rest_s == 50 / RATE_HZ
    account.admit(_ua(0.0, 0.0, 5.0))
    assert account.rest_s == 0.0


def test_the_rest_after_a_breach_counts_from_the_last_admitted_current() -> None:
    account = _account(imbalance_uc=3.0)
    # samples 3 and 4 are refused: accounted as zero, output rests from sample 3
    assert account.admit(_ua(1024.0, 1024.0, 1024.0, 1024.0, 1024.0)) == 3
    assert account.rest_s == 2 / RATE_HZ


def test_a_breach_on_the_first_sample_extends_the_rest_before_it() -> None:
    account = _account(imbalance_uc=0.0)
    account.idle(10)
    assert account.admit(_ua(1.0, 1.0)) == 0
    assert account.rest_s == 12 / RATE_HZ


def test_idle_of_no_samples_changes_nothing() -> None:
    account = _account()
    account.admit(_ua(7.0))
    account.idle(0)
    account.idle(-3)
    assert account.samples == 1
    assert account.rest_s == 0.0


@pytest.mark.parametrize("n", [1, CHUNK, WINDOW, 14 * CHUNK - 1, 14 * CHUNK, 14 * CHUNK + 1, 5000])
def test_idle_counts_its_samples_and_keeps_the_charge(n: int) -> None:
    account = _account()
    account.admit(_ua(1024.0, 1024.0))
    account.idle(n)
    assert account.samples == 2 + n
    assert account.net_uc == 2.0
    assert account.rest_s == n / RATE_HZ


def test_a_long_idle_leaves_only_the_present_charge_in_the_span() -> None:
    account = _account()
    account.admit(_ua(1024.0, 1024.0))
    account.idle(14 * CHUNK)
    assert account.window_span_uc() == (2.0, 2.0)
    account.admit(_ua(-1024.0))
    assert account.window_span_uc() == (1.0, 2.0)


def test_a_short_idle_keeps_the_charge_before_it_in_the_span() -> None:
    account = _account()
    account.admit(_ua(1024.0, 1024.0))
    account.idle(WINDOW)
    assert account.window_span_uc() == (0.0, 2.0)


# --- the chunked history and its span cache -------------------------------------------------


def test_short_blocks_inside_a_chunk_widen_the_span_and_count_their_samples() -> None:
    account = _account()
    account.admit(_ua(1024.0))  # opens a chunk
    assert account.admit(_ua(1024.0, -3072.0)) == 2
    assert account.net_uc == -1.0
    assert account.samples == 3
    assert account.window_span_uc() == (-1.0, 2.0)
    assert account.admit(_ua(4096.0)) == 1
    assert account.window_span_uc() == (-1.0, 3.0)
    assert account.rest_s == 0.0


def test_the_span_forgets_an_overwritten_chunk_when_fed_in_small_blocks() -> None:
    account = _account()
    account.admit(_ua(5120.0))  # 5 µC, then held
    for _ in range(60):
        account.admit(np.zeros(3))
    assert account.window_span_uc() == (5.0, 5.0)
    for _ in range(60):
        account.admit(_ua(0.0, -1024.0, 1024.0))
    assert account.window_span_uc() == (4.0, 5.0)


def test_a_breach_found_inside_a_chunk_is_at_its_exact_sample() -> None:
    account = _account(imbalance_uc=3.0)
    account.admit(_ua(1024.0))
    assert account.admit(_ua(1024.0, 1024.0, 1.0)) == 2
    assert account.net_uc == 3.0
    assert account.samples == 4


def test_blocks_of_exactly_one_chunk_each_fill_the_next_chunk() -> None:
    account = _account()
    account.admit(np.concatenate((_ua(3072.0), np.zeros(CHUNK - 1))))
    for _ in range(20):
        account.admit(np.zeros(CHUNK))
    # every chunk of the window now holds only the charge held since: 3 µC
    assert account.window_span_uc() == (3.0, 3.0)


def test_blocks_of_whole_chunks_keep_every_chunk_of_the_window() -> None:
    account = _account(dc_ua=32.0)
    # one 4 µC rise at the start, then whole chunks of zeros in one long block
    assert account.admit(np.concatenate((np.full(4, 1024.0), np.zeros(6 + 5 * CHUNK)))) == 60
    assert account.window_span_uc() == (0.0, 4.0)
    assert account.admit(_ua(1.0)) == 0
    account.idle(WINDOW + 2 * CHUNK)
    assert account.window_span_uc() == (4.0, 4.0)


# --- the two rules against a reference of every interval --------------------------------------


def _first_breach(
    history: list[float], block: np.ndarray, imbalance_uc: float, window_uc: float, reach: int
) -> int:
    """The first sample of ``block`` at which the net charge passes ``imbalance_uc`` or an
    interval of at most ``reach`` samples carries more than ``window_uc`` (brute force)."""
    charge = list(history)
    for i, sample in enumerate(block):
        now = charge[-1] + float(sample) * UC
        earlier = charge[-reach:] if reach <= len(charge) else [0.0, *charge]
        if abs(now) > imbalance_uc or any(abs(now - c) > window_uc for c in earlier):
            return i
        charge.append(now)
    return block.size


blocks = st.lists(
    st.one_of(
        hnp.arrays(np.float64, st.integers(1, 40), elements=st.integers(-600, 600).map(float)),
        st.integers(1, 200),  # output stopped for this many samples
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=150, deadline=None)
@given(steps=blocks, imbalance=st.integers(0, 3000), window=st.integers(0, 40))
def test_admit_is_exact_for_imbalance_and_never_looser_than_the_window_rule(
    steps: list[np.ndarray | int], imbalance: int, window: int
) -> None:
    imbalance_uc = imbalance * UC * 8
    dc_ua = window * 8 / WINDOW_S * UC * 8  # window charge: a multiple of 1/1024 µC
    account = _account(imbalance_uc=imbalance_uc, dc_ua=dc_ua)
    window_uc = account.max_window_uc
    history = [0.0]  # the charge after each sample, from before the first
    for step in steps:
        if isinstance(step, int):
            account.idle(step)
            history.extend([history[-1]] * step)
            continue
        block = step.copy()
        first = account.admit(block)
        # never looser: every admitted sample keeps both rules over the window
        assert first >= 0
        strict = _first_breach(history, block[:first], imbalance_uc, window_uc, WINDOW)
        assert strict == first
        if first < block.size:
            # never stricter than the rule over the window stretched by one block and its chunks
            reach = WINDOW + block.size + 3 * CHUNK
            loose = _first_breach(history, block, imbalance_uc, window_uc, reach)
            assert first >= loose
        admitted = np.concatenate((block[:first], np.zeros(block.size - first)))
        history.extend(history[-1] + np.cumsum(admitted) * UC)
        assert account.net_uc == history[-1]
        assert abs(account.net_uc) <= imbalance_uc
    assert account.samples == len(history) - 1


@settings(max_examples=100, deadline=None)
@given(steps=blocks, imbalance=st.integers(0, 3000))
def test_without_a_mean_dc_limit_admit_stops_exactly_at_the_imbalance_limit(
    steps: list[np.ndarray | int], imbalance: int
) -> None:
    imbalance_uc = imbalance * UC * 8
    account = _account(imbalance_uc=imbalance_uc)
    history = [0.0]
    for step in steps:
        if isinstance(step, int):
            account.idle(step)
            history.extend([history[-1]] * step)
            continue
        first = account.admit(step.copy())
        assert first == _first_breach(history, step, imbalance_uc, math.inf, WINDOW)
        admitted = np.concatenate((step[:first], np.zeros(step.size - first)))
        history.extend(history[-1] + np.cumsum(admitted) * UC)
        assert account.net_uc == history[-1]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_long_block_keeps_each_chunk_its_own_extremes(sign: float) -> None:
    account = _account()
    block = np.zeros(14 * CHUNK)
    block[0] = block[7 * CHUNK] = sign * 1024.0  # 1 µC in its first half, 2 µC in its second
    assert account.admit(block) == block.size
    # the next seven chunks replace the seven oldest: only the second half's charge is left
    account.admit(np.zeros(7 * CHUNK))
    assert account.window_span_uc() == (sign * 2.0, sign * 2.0)
