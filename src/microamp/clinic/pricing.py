"""Pricing: a price per session of a protocol, packages at a discount, the cost of a plan.

Money is `Decimal` rounded to cents; the cheapest mix of packages and single sessions is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from microamp.errors import InvalidValue

__all__ = ["CostEstimate", "PackageOffer", "estimate_cost", "parse_money"]

CENT = Decimal("0.01")


def parse_money(raw: str | float | Decimal, field: str = "price") -> Decimal:
    """A non-negative amount in currency units, rounded to cents."""
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidValue(field, raw, "must be an amount such as 120 or 89.50") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidValue(field, raw, "must be an amount of 0 or more")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PackageOffer:
    """``sessions`` sessions bought together at ``discount_pct`` percent off."""

    name: str
    sessions: int
    discount_pct: Decimal

    def __post_init__(self) -> None:
        if self.sessions < 1:
            raise InvalidValue("package.sessions", self.sessions, "must be at least 1")
        if not Decimal(0) <= self.discount_pct < Decimal(100):
            raise InvalidValue("package.discount_pct", self.discount_pct, "must be 0 to under 100")

    def price(self, per_session: Decimal) -> Decimal:
        full = per_session * self.sessions
        return (full * (Decimal(100) - self.discount_pct) / 100).quantize(
            CENT, rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What a number of sessions costs, and which packages make it so."""

    sessions: int
    per_session: Decimal
    full_price: Decimal
    total: Decimal
    packages: tuple[tuple[str, int], ...]

    @property
    def saving(self) -> Decimal:
        return self.full_price - self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "per_session": float(self.per_session),
            "full_price": float(self.full_price),
            "total": float(self.total),
            "saving": float(self.saving),
            "packages": [{"name": name, "count": count} for name, count in self.packages],
        }


def estimate_cost(
    sessions: int, *, per_session: Decimal, packages: Sequence[PackageOffer] = ()
) -> CostEstimate:
    """The cheapest way to pay for ``sessions`` sessions (packages are never split)."""
    if sessions < 0:
        raise InvalidValue("sessions", sessions, "must be 0 or more")
    # cheapest[n]: (cost, packages used) for exactly n sessions; single sessions fill any gap.
    cheapest: list[tuple[Decimal, tuple[int, ...]]] = [(Decimal(0), ())]
    for n in range(1, sessions + 1):
        cost, used = cheapest[n - 1]
        best = (cost + per_session, used)
        for index, offer in enumerate(packages):
            if offer.sessions <= n:
                base_cost, base_used = cheapest[n - offer.sessions]
                candidate = base_cost + offer.price(per_session)
                if candidate < best[0]:
                    best = (candidate, (*base_used, index))
        cheapest.append(best)
    total, used = cheapest[sessions]
    counts = tuple(
        (offer.name, used.count(index)) for index, offer in enumerate(packages) if index in used
    )
    return CostEstimate(sessions, per_session, per_session * sessions, total, counts)
