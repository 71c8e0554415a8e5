"""Pricing, care sheets and consent texts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from microamp.clinic.care import care_html, care_text
from microamp.clinic.consent import check_signature, consent_text, current_consent_version
from microamp.clinic.pricing import PackageOffer, estimate_cost, parse_money
from microamp.errors import InvalidValue


def test_cost_without_packages_is_the_price_times_the_sessions() -> None:
    estimate = estimate_cost(13, per_session=Decimal("120.00"))
    assert estimate.total == Decimal("1560.00") and estimate.saving == 0


def test_the_cheapest_mix_of_packages_is_chosen() -> None:
    offers = [PackageOffer("6 pack", 6, Decimal(10)), PackageOffer("12 pack", 12, Decimal(15))]
    estimate = estimate_cost(13, per_session=Decimal(100), packages=offers)
    assert estimate.total == Decimal("1120.00")  # 12 at 15 % off + 1 single
    assert estimate.packages == (("12 pack", 1),)
    assert estimate.to_dict()["saving"] == 180.0


def test_money_and_packages_refuse_nonsense() -> None:
    assert parse_money("89.505") == Decimal("89.51")
    for bad in ("-1", "abc", "nan", "inf"):
        with pytest.raises(InvalidValue, match="price"):
            parse_money(bad)
    with pytest.raises(InvalidValue, match="discount_pct"):
        PackageOffer("free", 5, Decimal(100))
    with pytest.raises(InvalidValue, match="sessions"):
        PackageOffer("none", 0, Decimal(5))


@pytest.mark.parametrize(("kind", "advice"), [("pre", "exfoliating"), ("post", "sunscreen")])
def test_care_sheets_print_as_text_and_html(kind: str, advice: str) -> None:
    text = care_text(kind, client_name="Ana <Lima>")
    page = care_html(kind, client_name="Ana <Lima>")
    assert advice in text and advice in page
    assert "not a cleared medical device" in text
    assert (
        page.startswith("<!doctype html>") and "Ana &lt;Lima&gt;" in page and "<script" not in page
    )


def test_only_pre_and_post_care_exist() -> None:
    with pytest.raises(InvalidValue, match="kind"):
        care_text("during")


def test_the_current_consent_text_is_versioned() -> None:
    text = consent_text()
    assert text.version == current_consent_version()
    assert "not a cleared medical device" in text.text
    with pytest.raises(InvalidValue, match="consent_version"):
        consent_text("1999.1")


def test_a_signature_is_the_clients_name_typed() -> None:
    assert check_signature("  ana   LIMA ", full_name="Ana Lima") == "ana LIMA"
    for bad in ("", "   ", "A. Lima"):
        with pytest.raises(InvalidValue, match="typed_signature"):
            check_signature(bad, full_name="Ana Lima")
