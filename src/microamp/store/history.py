"""A client's safety history: every screening with its outcome and what changed, every flag
raised and lifted, every consent and clearance. What the CLI, the API and the page show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.history import answer_changes
from microamp.store.crud import get_client
from microamp.store.models import Clearance, Consent, IntakeForm, SafetyFlag, User

__all__ = ["client_history", "flag_dict", "screening_versions"]


def screening_versions(session: Session, *, client_id: int) -> list[dict[str, Any]]:
    """Every intake form of the client, newest recorded first, each with its version number
    and the answers that changed against the version before it."""
    forms = list(
        session.scalars(
            select(IntakeForm)
            .where(IntakeForm.client_id == client_id)
            .order_by(IntakeForm.recorded_at, IntakeForm.id)
        )
    )
    names = _user_names(session)
    versions = []
    previous: dict[str, Any] | None = None
    for number, form in enumerate(forms, start=1):
        versions.append(
            {
                "version": number,
                "id": form.id,
                "screened_on": form.screened_on.isoformat(),
                "recorded_at": form.recorded_at.isoformat(),
                "recorded_by": names.get(form.recorded_by_id) if form.recorded_by_id else None,
                "outcome": form.outcome,
                "rules_version": form.rules_version,
                "reasons": list(form.reasons),
                "answers": dict(form.answers),
                "changes": [c.to_dict() for c in answer_changes(previous, form.answers)],
            }
        )
        previous = dict(form.answers)
    return versions[::-1]


def flag_dict(flag: SafetyFlag) -> dict[str, Any]:
    """A flag as the history shows it."""
    return {
        "id": flag.id,
        "rule_id": flag.rule_id,
        "outcome": flag.outcome,
        "message": flag.message,
        "raised_on": flag.raised_on.isoformat(),
        "intake_form_id": flag.intake_form_id,
        "lifted": flag.lifted_at is not None,
        "lifted_at": flag.lifted_at.isoformat() if flag.lifted_at else None,
        "lifted_by": flag.lifted_by,
        "lift_reason": flag.lift_reason,
    }


def client_history(session: Session, *, client_id: int) -> dict[str, Any]:
    """The whole safety history of a client (`NotFound` for no such client)."""
    client = get_client(session, client_id=client_id)
    flags = session.scalars(
        select(SafetyFlag).where(SafetyFlag.client_id == client.id).order_by(SafetyFlag.id)
    )
    return {
        "client_id": client.id,
        "full_name": client.full_name,
        "screenings": screening_versions(session, client_id=client.id),
        "flags": [flag_dict(flag) for flag in flags],
        "consents": [_consent(c) for c in _rows(session, Consent, client.id)],
        "clearances": [_clearance(c) for c in _rows(session, Clearance, client.id)],
    }


def _rows(session: Session, model: type[Consent] | type[Clearance], client_id: int) -> list[Any]:
    return list(
        session.scalars(select(model).where(model.client_id == client_id).order_by(model.id))
    )


def _consent(consent: Consent) -> dict[str, Any]:
    return {
        "text_version": consent.text_version,
        "typed_signature": consent.typed_signature,
        "signed_at": consent.signed_at.isoformat(),
    }


def _clearance(clearance: Clearance) -> dict[str, Any]:
    return {
        "physician_name": clearance.physician_name,
        "rule_ids": list(clearance.rule_ids),
        "issued_on": clearance.issued_on.isoformat(),
        "valid_until": clearance.valid_until.isoformat() if clearance.valid_until else None,
        "document_ref": clearance.document_ref,
    }


def _user_names(session: Session) -> dict[int, str]:
    return {user.id: user.display_name for user in session.scalars(select(User))}
