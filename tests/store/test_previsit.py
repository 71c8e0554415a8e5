"""Pre-visit links and what clients send on them: signed, expiring, one client, revocable, one
submission; answers kept unscreened until a practitioner reviews them; a PDF copy that reads."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from microamp.clinic.consent import current_consent_version
from microamp.clinic.intake import nothing_to_report
from microamp.errors import InvalidValue
from microamp.store import Store
from microamp.store.crud import create_client, create_user
from microamp.store.models import Consent, IntakeForm, SafetyFlag
from microamp.store.previsit import (
    LinkRefused,
    create_link,
    link_token,
    open_link,
    review_submission,
    revoke_link,
    submit_previsit,
)

KEY = b"k" * 40
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
BORN = date(1990, 4, 2)


def _signature() -> bytes:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    for x in range(20, 280):
        image.putpixel((x, 50 + (x % 17) - 8), (0, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _setup(store: Store) -> tuple[int, int, str]:
    with store.session() as session:
        client = create_client(session, full_name="Ana Lima", date_of_birth=BORN, today=NOW.date())
        user = create_user(session, email="p@x.org", display_name="P", role="practitioner")
        link = create_link(session, client_id=client.id, created_by_id=user.id, now=NOW)
        token = link_token(KEY, link)
        session.commit()
        return client.id, user.id, token


def _submit(store: Store, token: str, **changes: object) -> int:
    fields: dict[str, object] = {
        "answers": nothing_to_report(BORN, pregnant=True),
        "typed_name": "ana  lima",
        "drawn_signature": _signature(),
        "typed_instead": False,
        "consent_version": current_consent_version(),
        "photo_consent": True,
        "today": NOW.date(),
        "now": NOW + timedelta(hours=1),
    }
    fields.update(changes)
    with store.session() as session:
        link = open_link(session, KEY, token, now=NOW + timedelta(hours=1))
        submission = submit_previsit(session, link, **fields)  # type: ignore[arg-type]
        session.commit()
        return submission.id


def test_a_link_opens_for_its_client_until_it_expires(store: Store) -> None:
    client_id, _, token = _setup(store)
    with store.session() as session:
        assert open_link(session, KEY, token, now=NOW).client_id == client_id
        later = NOW + timedelta(days=7)
        with pytest.raises(LinkRefused, match="expired"):
            open_link(session, KEY, token, now=later)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature altered
        lambda t: ".".join([t.split(".")[0], "99", *t.split(".")[2:]]),  # another client
        lambda t: ".".join([*t.split(".")[:2], str(int(t.split(".")[2]) + 86400), t.split(".")[3]]),
        lambda t: "not a token",
    ],
)
def test_a_forged_or_altered_token_is_refused(store: Store, forge: object) -> None:
    _, _, token = _setup(store)
    with store.session() as session, pytest.raises(LinkRefused, match="not one the clinic sent"):
        open_link(session, KEY, forge(token), now=NOW)  # type: ignore[operator]
    with store.session() as session, pytest.raises(LinkRefused):
        open_link(session, b"another key" * 4, token, now=NOW)


def test_a_revoked_link_is_refused_at_once(store: Store) -> None:
    client_id, _, token = _setup(store)
    with store.session() as session:
        link = open_link(session, KEY, token, now=NOW)
        revoke_link(session, client_id=client_id, link_id=link.id, now=NOW)
        session.commit()
        with pytest.raises(LinkRefused, match="withdrawn"):
            open_link(session, KEY, token, now=NOW)


def test_the_answers_wait_unscreened_and_are_screened_on_review(store: Store) -> None:
    client_id, reviewer_id, token = _setup(store)
    submission_id = _submit(store, token)
    with store.session() as session:
        assert session.scalars(select(IntakeForm)).all() == []  # nothing screened yet
        assert session.scalars(select(SafetyFlag)).all() == []
        with pytest.raises(LinkRefused, match="sent already"):
            open_link(session, KEY, token, now=NOW + timedelta(hours=2))

        submission, form = review_submission(session, client_id=client_id,
                                             submission_id=submission_id, reviewer_id=reviewer_id,
                                             today=NOW.date(), now=NOW + timedelta(hours=3))  # fmt: skip
        session.commit()
        assert form.recorded_by_id == reviewer_id and form.outcome == "contraindicated"
        assert [f.rule_id for f in session.scalars(select(SafetyFlag))] != []
        consent = session.get(Consent, submission.consent_id)
        assert consent is not None and consent.typed_signature == "ana lima"
        assert consent.text_version == current_consent_version()
        assert consent.signed_at == NOW + timedelta(hours=1)
        with pytest.raises(InvalidValue, match="reviewed already"):
            review_submission(session, client_id=client_id, submission_id=submission_id,
                              reviewer_id=reviewer_id, today=NOW.date())  # fmt: skip


def test_the_pdf_copy_reads_back_with_the_answers_consent_and_photo_choice(store: Store) -> None:
    _, _, token = _setup(store)
    _submit(store, token)
    with store.session() as session:
        from microamp.store.previsit import PrevisitSubmission

        submission = session.scalars(select(PrevisitSubmission)).one()
        reader = PdfReader(io.BytesIO(submission.pdf))
        text = " ".join(page.extract_text() for page in reader.pages)
        assert submission.signature_method == "drawn"
        assert sum(len(page.images) for page in reader.pages) == 1
    assert "Ana Lima" in text and f"version {current_consent_version()}" in text
    assert "Pregnant, or could be pregnant: yes" in text and "Diabetes: no" in text
    assert "progress photographs may be taken" in text


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("typed_signature", {"typed_name": "Someone Else"}),
        ("signature", {"drawn_signature": None}),
        ("signature", {"drawn_signature": b"\x89PNG\r\n\x1a\nnot really"}),
        ("date_of_birth", {"answers": nothing_to_report(date(1991, 1, 1))}),
        ("diabetes", {"answers": nothing_to_report(BORN, diabetes=None)}),
    ],
)
def test_a_bad_submission_names_its_field_and_keeps_the_link_good(
    store: Store, field: str, changes: dict[str, object]
) -> None:
    _, _, token = _setup(store)
    with pytest.raises(InvalidValue) as caught:
        _submit(store, token, **changes)
    assert caught.value.field == field
    with store.session() as session:
        assert open_link(session, KEY, token, now=NOW).submitted_at is None


def test_typing_the_name_with_the_box_ticked_signs_without_a_drawing(store: Store) -> None:
    _, _, token = _setup(store)
    _submit(store, token, drawn_signature=None, typed_instead=True, photo_consent=False)
    with store.session() as session:
        from microamp.store.previsit import PrevisitSubmission

        submission = session.scalars(select(PrevisitSubmission)).one()
        assert submission.signature_method == "typed" and submission.drawn_signature is None
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(submission.pdf)).pages)
    assert "did not agree to progress photographs" in text
