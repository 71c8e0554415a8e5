"""Faults injected from a device URL: parsed in time order, each bad value refused by name."""

from __future__ import annotations

import pytest

from microamp.devices.injection import FAULT_KINDS, InjectedFault, parse_injected_faults
from microamp.errors import DeviceURLError


def test_faults_are_parsed_and_sorted_by_time() -> None:
    assert parse_injected_faults(["stall@8", "contact-loss@2.5", "dry@0"]) == [
        InjectedFault(0.0, "dry"),
        InjectedFault(2.5, "contact-loss"),
        InjectedFault(8.0, "stall"),
    ]


def test_every_kind_is_accepted() -> None:
    faults = parse_injected_faults([f"{kind}@1" for kind in FAULT_KINDS])

    assert sorted({f.kind for f in faults}) == sorted(FAULT_KINDS)


@pytest.mark.parametrize("value", ["zap@1", "stall", "stall1", "@1"])
def test_an_unknown_kind_or_a_missing_at_is_refused_listing_the_kinds(value: str) -> None:
    with pytest.raises(DeviceURLError) as caught:
        parse_injected_faults([value])

    assert (caught.value.field, caught.value.value, caught.value.rule) == (
        "fault",
        value,
        "must be KIND[:ELECTRODE]@SECONDS with KIND one of contact-loss, dry, drying, disconnect, "
        "stall",
    )


def test_a_time_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(DeviceURLError) as caught:
        parse_injected_faults(["stall@soon"])

    assert (caught.value.field, caught.value.value, caught.value.rule) == (
        "fault",
        "stall@soon",
        "the time after @ must be a number of seconds",
    )


@pytest.mark.parametrize("value", ["stall@-1", "stall@-0.001", "stall@inf", "stall@nan"])
def test_a_negative_or_non_finite_time_is_refused(value: str) -> None:
    with pytest.raises(DeviceURLError) as caught:
        parse_injected_faults([value])

    assert (caught.value.field, caught.value.value, caught.value.rule) == (
        "fault",
        value,
        "the time after @ must be at least 0 s",
    )


def test_the_kind_ends_at_the_first_at_sign() -> None:
    with pytest.raises(DeviceURLError) as caught:
        parse_injected_faults(["stall@1@2"])

    assert caught.value.rule == "the time after @ must be a number of seconds"
