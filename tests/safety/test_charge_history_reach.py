"""The charge account's history reaches back over the whole window, whatever the block sizes.

The interval rule reads the history as the lowest and highest net charge of each 10 ms chunk.
The span it answers must hold every net charge of the last ``dc_window_s`` (the present sample
included): a history that forgets a chunk too soon, or misses the tail of a long block, would let
an interval pass the mean-DC limit unseen. Checked against a plain list of every net charge.

The rate is 1024 Hz so that every charge of an integer current is exact (see
test_charge_account_boundaries.py).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from microamp.safety.charge import CHUNK_S, ChargeAccount

RATE_HZ = 1024.0
UC = 1.0 / RATE_HZ  # µC carried by one sample of 1 µA
WINDOW_S = 0.125  # 128 samples
WINDOW = 128
CHUNK = round(CHUNK_S * RATE_HZ)  # 10 samples


def _unlimited() -> ChargeAccount:
    return ChargeAccount(
        RATE_HZ, max_imbalance_uc=math.inf, max_mean_dc_ua=math.inf, dc_window_s=WINDOW_S
    )


class _Reference:
    """Every net charge since the device was opened, after the zeros from before it was."""

    def __init__(self) -> None:
        self.charge_uc: list[float] = [0.0] * (WINDOW + 1)

    def admit(self, samples_ua: np.ndarray) -> None:
        self.charge_uc += list(self.charge_uc[-1] + np.cumsum(samples_ua) * UC)

    def idle(self, n: int) -> None:
        self.charge_uc += [self.charge_uc[-1]] * n

    def window(self) -> tuple[float, float]:
        """The lowest and highest net charge of the present sample and the window behind it."""
        behind = self.charge_uc[-(WINDOW + 1) :]
        return min(behind), max(behind)


def _assert_reaches(account: ChargeAccount, reference: _Reference) -> None:
    low, high = account.window_span_uc()
    ref_low, ref_high = reference.window()
    assert low <= ref_low, (low, ref_low)
    assert high >= ref_high, (high, ref_high)
    assert account.net_uc == reference.charge_uc[-1]


def test_the_tail_of_a_block_longer_than_two_chunks_is_in_the_span() -> None:
    account = _unlimited()
    # 2.5 chunks from a chunk boundary: two whole chunks at once, then half a chunk
    account.admit(np.full(25, 1.0))
    assert account.net_uc == 25 * UC
    assert account.window_span_uc() == (0.0, 25 * UC)


def test_a_block_that_finishes_a_chunk_fills_the_next_by_its_own_length_only() -> None:
    account, reference = _unlimited(), _Reference()
    spike = np.array([100.0, -100.0])
    account.admit(spike)
    reference.admit(spike)
    # eight times one sample then ten: each ten finishes a chunk and starts the next with one
    # sample; 88 samples in all, well inside the 128-sample window, so the spike stays in reach
    for size in [1, 10] * 8:
        zeros = np.zeros(size)
        account.admit(zeros)
        reference.admit(zeros)
    assert reference.window()[1] == 100 * UC
    _assert_reaches(account, reference)


_operation = st.one_of(
    st.tuples(
        st.just("admit"),
        st.integers(1, 4 * CHUNK),
        st.integers(-50, 50),
    ),
    st.tuples(st.just("idle"), st.integers(1, 2 * WINDOW), st.just(0)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_operation, min_size=1, max_size=40))
@example([("admit", 1, 9), ("admit", 10, 0)] * 10)
@example([("admit", 5, 7), ("admit", 13, -3), ("admit", 1, 0)] * 8)
@example([("admit", 25, 3), ("admit", 2, -40)] * 6)
def test_the_span_holds_every_net_charge_of_the_window_for_any_blocks(
    operations: list[tuple[str, int, int]],
) -> None:
    account, reference = _unlimited(), _Reference()
    for kind, size, current_ua in operations:
        if kind == "admit":
            # a block that steps once: the extreme sits anywhere in it, the tail included
            samples = np.full(size, float(current_ua))
            samples[size // 2 :] *= -1
            assert account.admit(samples) == size
            reference.admit(samples)
        else:
            account.idle(size)
            reference.idle(size)
        _assert_reaches(account, reference)
