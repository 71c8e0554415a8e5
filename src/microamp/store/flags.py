"""Safety flags: a contraindication or clearance requirement, once found, stays on the client.

A screening that fires such a rule raises a flag (unless one for that rule is still up); the
gate refuses on every unlifted flag, so a later screening that answers "no" everywhere cannot
erase what an earlier one found. Only a practitioner or owner lifts a flag, with a reason; the
row keeps who, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.rules import Outcome
from microamp.clinic.screening import Reason
from microamp.errors import InvalidValue
from microamp.store.base import utc_now
from microamp.store.models import SafetyFlag, User

__all__ = ["KEPT_OUTCOMES", "LIFTING_ROLES", "lift_flags", "raise_flags", "unlifted_flags"]

KEPT_OUTCOMES = frozenset({Outcome.CONTRAINDICATED, Outcome.CLEARANCE_REQUIRED})
LIFTING_ROLES = frozenset({"owner", "practitioner"})
_REASON_MAX = 2000


def unlifted_flags(session: Session, *, client_id: int) -> list[SafetyFlag]:
    """The client's flags still up, oldest first."""
    return list(
        session.scalars(
            select(SafetyFlag)
            .where(SafetyFlag.client_id == client_id, SafetyFlag.lifted_at.is_(None))
            .order_by(SafetyFlag.id)
        )
    )


def raise_flags(
    session: Session,
    *,
    client_id: int,
    intake_form_id: int,
    reasons: Iterable[Reason],
    raised_on: date,
) -> list[SafetyFlag]:
    """A flag for each reason that must be kept and has none up yet; the new flags."""
    up = {flag.rule_id for flag in unlifted_flags(session, client_id=client_id)}
    raised = []
    for reason in reasons:
        if reason.outcome not in KEPT_OUTCOMES or reason.rule_id in up:
            continue
        flag = SafetyFlag(
            client_id=client_id,
            rule_id=reason.rule_id,
            outcome=str(reason.outcome),
            message=reason.message,
            raised_on=raised_on,
            intake_form_id=intake_form_id,
        )
        session.add(flag)
        raised.append(flag)
        up.add(reason.rule_id)
    session.flush()
    return raised


def lift_flags(
    session: Session,
    *,
    client_id: int,
    rule_id: str,
    reason: str,
    by: User,
    actor: str,
    at: datetime | None = None,
) -> list[SafetyFlag]:
    """Lift the client's unlifted flags for ``rule_id``: a decision by ``by`` (a practitioner
    or owner; ``actor`` is how the audit names them), with ``reason``. `InvalidValue` names
    ``by`` for another role, ``reason`` when empty, ``rule`` when no such flag is up."""
    if by.role not in LIFTING_ROLES or not by.active:
        raise InvalidValue("by", by.email, "only an active practitioner or owner may lift a flag")
    why = " ".join(reason.split())
    if not 1 <= len(why) <= _REASON_MAX:
        raise InvalidValue("reason", reason, f"say why, in 1-{_REASON_MAX} characters")
    up = unlifted_flags(session, client_id=client_id)
    chosen = [flag for flag in up if flag.rule_id == rule_id]
    if not chosen:
        listed = ", ".join(sorted({flag.rule_id for flag in up})) or "none"
        raise InvalidValue("rule", rule_id, f"no flag of this rule is up; flags up: {listed}")
    when = at or utc_now()
    for flag in chosen:
        flag.lifted_at = when
        flag.lifted_by_id = by.id
        flag.lifted_by = actor
        flag.lift_reason = why
    session.flush()
    return chosen
