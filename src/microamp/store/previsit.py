"""Forms before the visit: a signed, expiring link on which one client fills the intake and
signs the consent, and what she sent, awaiting a practitioner's review.

A link is a row (`PrevisitLink`: its client, expiry, revocation, use) and a token that names
the row, its client and its expiry under an HMAC of the clinic's signing key: a token cannot be
made for another client nor kept alive past its expiry, and revoking the row ends it at once.
One link takes one submission.

What the client sends (`PrevisitSubmission`) is checked as strictly as the staff form's answers
but not screened: screening runs when a practitioner reviews it (`review_submission`), which
keeps the answers as a new intake version (recorded by the reviewer, screened that day) and the
consent under the version of the text she signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.clinic.consent import check_signature, consent_text
from microamp.clinic.consent_pdf import signed_form_pdf
from microamp.clinic.intake import parse_answers
from microamp.errors import InvalidValue, NotFound
from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now
from microamp.store.crud import get_client, record_consent, record_intake
from microamp.store.models import Client, IntakeForm

__all__ = [
    "LINK_DAYS",
    "LinkRefused",
    "PrevisitLink",
    "PrevisitSubmission",
    "create_link",
    "link_token",
    "links_of",
    "open_link",
    "review_submission",
    "revoke_link",
    "submissions_of",
    "submit_previsit",
]

LINK_DAYS = 7
_MAX_LINK_DAYS = 30
_MAX_SIGNATURE_BYTES = 300_000
_PNG = b"\x89PNG\r\n\x1a\n"
_PURPOSE = b"microamp previsit link"


class PrevisitLink(Base):
    """A link sent to one client: good until ``expires_at`` unless revoked or used."""

    __tablename__ = "previsit_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_to: Mapped[str | None] = mapped_column(String(254))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PrevisitSubmission(Base):
    """What the client sent on a link: answers not yet screened, her signature, a PDF copy."""

    __tablename__ = "previsit_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("previsit_links.id"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    consent_version: Mapped[str] = mapped_column(String(40))
    typed_name: Mapped[str] = mapped_column(String(200))
    # "drawn" (a PNG drawn on the page) or "typed" (the typed name and a ticked box)
    signature_method: Mapped[str] = mapped_column(String(10))
    drawn_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # "awaiting_review" until a practitioner reviews it: then "reviewed"
    status: Mapped[str] = mapped_column(String(20), default="awaiting_review", index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    intake_form_id: Mapped[int | None] = mapped_column(ForeignKey("intake_forms.id"))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"))


class LinkRefused(NotFound):
    """The link is not (or no longer) good: ``reason`` says why, in words for the client."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, _PURPOSE + b"\0" + body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def link_token(key: bytes, link: PrevisitLink) -> str:
    """The token of ``link``: its id, client and expiry, and their HMAC under ``key``."""
    body = f"{link.id}.{link.client_id}.{int(link.expires_at.timestamp())}"
    return f"{body}.{_mac(key, body)}"


def create_link(
    session: Session,
    *,
    client_id: int,
    created_by_id: int | None,
    days: int = LINK_DAYS,
    sent_to: str | None = None,
    now: datetime | None = None,
) -> PrevisitLink:
    """A new link for the client, good for ``days`` (1 to 30) days."""
    if not 1 <= days <= _MAX_LINK_DAYS:
        raise InvalidValue(
            "days", days, f"must be a whole number of days from 1 to {_MAX_LINK_DAYS}"
        )
    client = get_client(session, client_id=client_id)
    now = now or utc_now()
    link = PrevisitLink(client_id=client.id, created_by_id=created_by_id, created_at=now,
                        expires_at=now + timedelta(days=days), sent_to=sent_to)  # fmt: skip
    session.add(link)
    session.flush()
    return link


def open_link(
    session: Session, key: bytes, token: str, *, now: datetime | None = None
) -> PrevisitLink:
    """The link ``token`` names, if it is good now; `LinkRefused` saying why otherwise."""
    parts = token.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise LinkRefused("This link is not one the clinic sent.")
    body = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _mac(key, body)):
        raise LinkRefused("This link is not one the clinic sent.")
    link = session.get(PrevisitLink, int(parts[0]))
    if link is None or link.client_id != int(parts[1]):
        raise LinkRefused("This link is not one the clinic sent.")
    now = now or utc_now()
    if link.revoked_at is not None:
        raise LinkRefused("This link was withdrawn by the clinic. Ask them for a new one.")
    if link.submitted_at is not None:
        raise LinkRefused("This form has been sent already. Thank you.")
    if now >= link.expires_at or int(parts[2]) != int(link.expires_at.timestamp()):
        raise LinkRefused("This link has expired. Ask the clinic for a new one.")
    return link


def revoke_link(
    session: Session, *, client_id: int, link_id: int, now: datetime | None = None
) -> PrevisitLink:
    """Withdraw a link of the client (`NotFound` for another client's)."""
    link = session.get(PrevisitLink, link_id)
    if link is None or link.client_id != client_id:
        raise NotFound(f"no pre-visit link {link_id} for client {client_id}")
    if link.revoked_at is None:
        link.revoked_at = now or utc_now()
    return link


def _signature_png(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError  # imported when a form is signed

    if len(data) > _MAX_SIGNATURE_BYTES or not data.startswith(_PNG):
        raise InvalidValue(
            "signature", f"{len(data)} bytes", "must be a drawn signature (a PNG image)"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidValue(
            "signature", f"{len(data)} bytes", "must be a drawn signature (a PNG image)"
        ) from None
    return data


def submit_previsit(
    session: Session,
    link: PrevisitLink,
    *,
    answers: dict[str, Any],
    typed_name: str,
    drawn_signature: bytes | None,
    typed_instead: bool,
    consent_version: str,
    photo_consent: bool,
    today: date,
    now: datetime | None = None,
) -> PrevisitSubmission:
    """Keep what the client sent on ``link`` (already opened by `open_link`), unscreened, with
    a PDF copy of the signed form; the link is used up. `InvalidValue` names the first field
    that is wrong (answers as the staff form names them, ``typed_name``, ``signature``)."""
    client = session.get(Client, link.client_id)
    if client is None:
        raise NotFound(f"no client {link.client_id}")
    checked = parse_answers(answers, on=today).to_dict()
    if checked["date_of_birth"] != client.date_of_birth.isoformat():
        raise InvalidValue("date_of_birth", checked["date_of_birth"],
                           "does not match the date of birth the clinic has: check it, or call the clinic")  # fmt: skip
    text = consent_text(consent_version)
    signed = check_signature(typed_name, full_name=client.full_name)
    if drawn_signature:
        method, png = "drawn", _signature_png(drawn_signature)
    elif typed_instead:
        method, png = "typed", None
    else:
        raise InvalidValue(
            "signature", "none", "draw your signature, or tick the box to sign by typing your name"
        )
    now = now or utc_now()
    pdf = signed_form_pdf(full_name=client.full_name, answers=checked, consent=text, typed_name=signed,
                          drawn_signature=png, photo_consent=photo_consent, signed_at=now)  # fmt: skip
    submission = PrevisitSubmission(
        link_id=link.id, client_id=client.id, answers=checked, consent_version=text.version,
        typed_name=signed, signature_method=method, drawn_signature=png,
        photo_consent=photo_consent, pdf=pdf, submitted_at=now, status="awaiting_review",
    )  # fmt: skip
    session.add(submission)
    link.submitted_at = now
    session.flush()
    return submission


def review_submission(
    session: Session,
    *,
    client_id: int,
    submission_id: int,
    reviewer_id: int,
    today: date,
    now: datetime | None = None,
) -> tuple[PrevisitSubmission, IntakeForm]:
    """Screen the client's answers today as a new intake version recorded by the reviewer, and
    keep her consent under the text version she signed. `InvalidValue` when it was reviewed
    already; `NotFound` for another client's submission."""
    submission = session.get(PrevisitSubmission, submission_id)
    if submission is None or submission.client_id != client_id:
        raise NotFound(f"no pre-visit form {submission_id} for client {client_id}")
    if submission.status != "awaiting_review":
        raise InvalidValue("submission", submission_id, "has been reviewed already")
    form = record_intake(session, client_id=client_id, answers=submission.answers, on=today,
                         today=today, recorded_by_id=reviewer_id)  # fmt: skip
    consent = record_consent(session, client_id=client_id, typed_signature=submission.typed_name,
                             text_version=submission.consent_version,
                             signed_at=submission.submitted_at, now=now)  # fmt: skip
    submission.status, submission.reviewed_by_id = "reviewed", reviewer_id
    submission.reviewed_at = now or utc_now()
    submission.intake_form_id, submission.consent_id = form.id, consent.id
    session.flush()
    return submission, form


def links_of(session: Session, *, client_id: int) -> list[PrevisitLink]:
    """The client's links, newest first."""
    query = select(PrevisitLink).where(PrevisitLink.client_id == client_id)
    return list(session.scalars(query.order_by(PrevisitLink.id.desc())))


def submissions_of(session: Session, *, client_id: int) -> list[PrevisitSubmission]:
    """What the client sent before her visits, newest first."""
    query = select(PrevisitSubmission).where(PrevisitSubmission.client_id == client_id)
    return list(session.scalars(query.order_by(PrevisitSubmission.id.desc())))
