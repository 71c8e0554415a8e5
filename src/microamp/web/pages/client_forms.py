"""How the forms of the client page report bad input: each form's labels (which lead its
messages), the controls of fields whose ids differ from their names, and the domain's names for
the form's fields; and the page sent back with only the failing form's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.models import User
from microamp.web.errors import field_errors
from microamp.web.pages.clients import client_page_refusing

RATINGS = ("firmness", "radiance", "evenness", "satisfaction")


@dataclass(frozen=True, slots=True)
class FormNames:
    """How a form of the client page names its fields: the labels that lead the messages, the
    control of a field whose id differs from its name, the domain's names for the form's."""

    labels: dict[str, str]
    targets: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


FORMS = {
    "consent": FormNames({"typed_signature": "The client's typed name"}),
    "clearance": FormNames(
        {
            "physician_name": "Physician",
            "issued_on": "Issued on",
            "valid_until": "Valid until",
            "document_ref": "Document reference",
        },
    ),  # fmt: skip
    "lift": FormNames(
        {"rule_id": "Flag", "reason": "Why it no longer holds"},
        {"rule_id": "lift_rule_id", "reason": "lift_reason"},
        {"rule": "rule_id", "by": "rule_id"},
    ),
    "plan": FormNames(
        {
            "template": "Template",
            "protocol_name": "Protocol",
            "start": "Start",
            "months": "Months",
            "price": "Price per session",
            "weekdays": "Weekdays",
        },
        {"weekdays": "plan-weekday-mon"},
        {"closures": "weekdays", "amount": "price", "currency": "price"},
    ),  # fmt: skip
    "skin": FormNames(
        {
            "assessed_on": "Assessed on",
            "skin_kind": "Skin type",
            "fitzpatrick": "Fitzpatrick type",
            "laxity_grade": "Laxity",
            "skin_concerns": "Concerns",
            "skin_notes": "Notes",
        },
        {"laxity_grade": "laxity-0"},
        {
            "skin_type": "skin_kind",
            "fitzpatrick_type": "fitzpatrick",
            "concerns": "skin_concerns",
            "notes": "skin_notes",
        },
    ),
    "progress": FormNames(
        {"taken_on": "Taken on", "photo": "Photo", "notes": "Notes"}
        | {f"rating_{name}": name.capitalize() for name in RATINGS},
        {"notes": "pnotes"} | {f"rating_{name}": f"r-{name}" for name in RATINGS},
        {f"ratings.{name}": f"rating_{name}" for name in RATINGS},
    ),
}


def refusing(
    request: Request,
    user: User,
    db: Session,
    client_id: int,
    form: str,
    exc: InvalidValue,
    typed: dict[str, Any],
) -> Response:
    """Nothing written: the client page again with ``form``'s errors and what was typed."""
    db.rollback()
    spec = FORMS[form]
    errors = field_errors(exc, spec.labels, spec.targets, spec.fields)
    return client_page_refusing(request, user, db, client_id, form, errors, typed)
