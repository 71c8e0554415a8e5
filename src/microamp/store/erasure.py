"""Erasing a client: every row of personal content deleted, her photos removed, the dose the
device delivered kept without her identity, the audit chain untouched and the erasure in it.

Deleted, not crypto-shredded. Every personal field lives in this one database, in rows a single
transaction can delete, so deletion leaves nothing to decrypt later; a per-client key would need
every read path (pages, API, FHIR, search, mail) to decrypt, and a key table that is itself
personal data to erase. What deletion cannot reach is a copy made before it: backups hold her
rows until they are rotated out, and a PostgreSQL server keeps the dead row versions until its
next VACUUM. On SQLite the erasing connection turns on ``secure_delete``, so the freed pages are
overwritten with zeros rather than left readable in the file.

What is kept: her treatment records (delivered charge, current, time and impedance by zone,
telemetry and events) with no client, notes, refusal reasons or personalisation, so the clinic's
dose totals stay whole; payments with no client; the audit rows, which name her only by client
id and whose seals would break if they changed. A home operator user made for her stays, because
audit rows point at it, with her name removed and signing in disabled.

Retention: the clinic keeps records ``retention_years`` after the last treatment (a setting;
0 is no hold). Until then the erasure is refused with the rule named, and only changing the
setting lifts the hold: there is no override at the point of erasure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from microamp.errors import Conflict, NotFound
from microamp.store.access import AuditEntry, append_audit
from microamp.store.base import Base
from microamp.store.book_models import ClinicSettings
from microamp.store.home_models import HomeAccount, HomeSession
from microamp.store.mail import OutboxMessage
from microamp.store.models import (
    Appointment,
    Client,
    Consent,
    IntakeForm,
    ProgressEntry,
    User,
)
from microamp.store.photo_blobs import PhotoBlob
from microamp.store.previsit import PrevisitSubmission
from microamp.store.session_models import TreatmentSession
from microamp.store.station_models import LiveMessage, LiveState

__all__ = [
    "ERASED_COUNTS",
    "ErasurePlan",
    "RetentionHold",
    "erase_client",
    "erased_entry",
    "erasure_plan",
    "remove_files",
]

ERASED_NAME = "erased client"
# what an erasure counts, in the order it is said: intake forms (each with its screening),
# treatment records (kept as dose figures without her), photos, consents and visits
ERASED_COUNTS = ("intake_forms", "records", "photos", "consents", "visits")


class RetentionHold(Conflict):
    """An erasure the clinic's retention setting holds: ``held_until`` the first day it may go."""

    def __init__(self, reason: str, *, held_until: date) -> None:
        super().__init__("retention", reason, refused="This client cannot be erased yet")
        self.held_until = held_until


@dataclass(frozen=True, slots=True)
class ErasurePlan:
    """What erasing one client removes (counts) and whether a retention hold refuses it."""

    client_id: int
    full_name: str
    intake_forms: int
    records: int
    photos: int
    consents: int
    visits: int
    last_treatment: date | None
    retention_years: int
    held_until: date | None

    @property
    def held(self) -> bool:
        return self.held_until is not None

    def hold_rule(self) -> str:
        """The retention rule in words, naming the dates; empty when nothing holds."""
        if self.held_until is None or self.last_treatment is None:
            return ""
        return (
            f"records are kept {self.retention_years} years after the last treatment "
            f"({self.last_treatment.isoformat()}): held until {self.held_until.isoformat()}; "
            "the owner lifts the hold only by changing the retention setting"
        )

    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in ERASED_COUNTS}

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        for key in ("last_treatment", "held_until"):
            document[key] = document[key].isoformat() if document[key] else None
        return document | {"held": self.held, "rule": self.hold_rule()}


def _count(session: Session, column: Any, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(column.table).where(*where)) or 0)


def _last_treatment(session: Session, client_id: int) -> date | None:
    clinic = session.scalar(
        select(func.max(TreatmentSession.started_at)).where(TreatmentSession.client_id == client_id)
    )
    home = session.scalar(select(func.max(HomeSession.on_date)).where(
        HomeSession.client_id == client_id))  # fmt: skip
    days = [d for d in (clinic.date() if clinic else None, home) if d is not None]
    return max(days) if days else None


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def erasure_plan(session: Session, *, client_id: int, today: date) -> ErasurePlan:
    """What erasing ``client_id`` would remove, and the retention hold on it as of ``today``."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    settings = session.get(ClinicSettings, 1)
    years = settings.retention_years if settings is not None else 0
    last = _last_treatment(session, client_id)
    held_until = None
    if years > 0 and last is not None and today < _years_after(last, years):
        held_until = _years_after(last, years)
    photos = _count(session, ProgressEntry.id, ProgressEntry.client_id == client_id,
                    or_(ProgressEntry.photo_sha256.is_not(None),
                        ProgressEntry.photo_path.is_not(None)))  # fmt: skip
    return ErasurePlan(
        client_id=client_id,
        full_name=client.full_name,
        # each version of her intake answers, with the screening it produced
        intake_forms=_count(session, IntakeForm.id, IntakeForm.client_id == client_id),
        records=_count(session, TreatmentSession.id, TreatmentSession.client_id == client_id),
        photos=photos,
        # a reviewed pre-visit form became a consent row: counted once
        consents=_count(session, Consent.id, Consent.client_id == client_id)
        + _count(
            session,
            PrevisitSubmission.id,
            PrevisitSubmission.client_id == client_id,
            PrevisitSubmission.consent_id.is_(None),
        ),
        visits=_count(session, Appointment.id, Appointment.client_id == client_id),
        last_treatment=last,
        retention_years=years,
        held_until=held_until,
    )


def _referencing(table: Table) -> Iterable[tuple[Table, Any]]:
    """Every (table, column) with a foreign key to ``table``."""
    for other in Base.metadata.sorted_tables:
        for column in other.columns:
            if any(fk.column.table is table for fk in column.foreign_keys):
                yield other, column


def _delete_rows(session: Session, table: Table, where: ColumnElement[bool]) -> int:
    """Delete the rows of ``table`` matching ``where``, and first whatever points at them: a
    nullable reference is cleared (the row stays, e.g. a payment), a required one deleted with
    its row. Generic over the schema, so a table added later is not forgotten."""
    (key,) = table.primary_key.columns
    ids = list(session.scalars(select(key).where(where)))
    if not ids:
        return 0
    removed = 0
    for child, column in _referencing(table):
        if column.nullable:
            session.execute(update(child).where(column.in_(ids)).values({column.name: None}))
        else:
            removed += _delete_rows(session, child, column.in_(ids))
    session.execute(delete(table).where(key.in_(ids)))
    return removed + len(ids)


def _anonymise_records(session: Session, client_id: int) -> None:
    """Her treatment records stay as dose figures: no client, notes, reasons or her routine."""
    session.execute(
        update(TreatmentSession)
        .where(TreatmentSession.client_id == client_id)
        .values(client_id=None, notes="", refusal_reasons=[], personalisation={})
    )


def _live_rows(session: Session, client_id: int) -> None:
    live_ids = list(session.scalars(select(LiveState.id).where(LiveState.client_id == client_id)))
    if live_ids:
        session.execute(delete(LiveMessage).where(LiveMessage.live_id.in_(live_ids)))
        session.execute(delete(LiveState).where(LiveState.id.in_(live_ids)))


def _home_operator(session: Session, client_id: int) -> None:
    """Her home operator user stays for the audit rows that name it, without her name."""
    operator_ids = [i for i in session.scalars(
        select(HomeAccount.operator_id).where(HomeAccount.client_id == client_id)) if i]  # fmt: skip
    if operator_ids:
        session.execute(update(User).where(User.id.in_(operator_ids))
                        .values(display_name=ERASED_NAME, active=False, password_hash=None))  # fmt: skip


def _mail_to(session: Session, email: str | None) -> None:
    if email:
        _delete_rows(
            session, Base.metadata.tables["mail_outbox"], OutboxMessage.to_address == email
        )


def _photo_blobs(session: Session, digests: set[str]) -> None:
    """Remove her photos' bytes, unless another entry keeps the same photo."""
    still_used = set(session.scalars(
        select(ProgressEntry.photo_sha256).where(ProgressEntry.photo_sha256.in_(digests))))  # fmt: skip
    gone = digests - still_used
    if gone:
        session.execute(delete(PhotoBlob).where(PhotoBlob.sha256.in_(gone)))


def erase_client(
    session: Session, *, client_id: int, actor_id: int | None, actor: str, today: date
) -> tuple[ErasurePlan, list[Path]]:
    """Erase ``client_id`` in ``session`` (the caller commits) and audit it; refused with
    `RetentionHold` while the retention setting holds her records. Returns the plan carried
    out and the photo files an older microamp left on disk, for `remove_files` once the
    transaction has committed (removed before, a rollback would leave rows without files)."""
    plan = erasure_plan(session, client_id=client_id, today=today)
    if plan.held_until is not None:
        raise RetentionHold(f"client {client_id} cannot be erased: {plan.hold_rule()}",
                            held_until=plan.held_until)  # fmt: skip
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))
    client = session.get(Client, client_id)
    assert client is not None  # the plan found her
    entries = session.execute(select(ProgressEntry.photo_sha256, ProgressEntry.photo_path)
                              .where(ProgressEntry.client_id == client_id)).all()  # fmt: skip
    email = client.email
    session.flush()
    session.expunge_all()
    _anonymise_records(session, client_id)
    _live_rows(session, client_id)
    _home_operator(session, client_id)
    _mail_to(session, email)
    _delete_rows(session, Base.metadata.tables["clients"], Client.id == client_id)
    _photo_blobs(session, {e.photo_sha256 for e in entries if e.photo_sha256})
    append_audit(session, actor_id=actor_id, actor=actor, action="write",
                 resource=f"client:{client_id}", client_id=client_id,
                 detail={"change": "erased", **plan.counts()})  # fmt: skip
    return plan, [Path(e.photo_path) for e in entries if e.photo_path]


def erased_entry(session: Session, *, client_id: int) -> AuditEntry | None:
    """The audit row of ``client_id``'s erasure, or None when she was not erased (or is still
    on file). Nothing writes about her after it, so it is her last write row."""
    if session.get(Client, client_id) is not None:
        return None
    last = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.resource == f"client:{client_id}", AuditEntry.action == "write")
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    return last if last is not None and last.detail.get("change") == "erased" else None


def remove_files(paths: Iterable[Path]) -> int:
    """Remove the files an erased client's entries named; how many were there."""
    removed = 0
    for path in paths:
        if path.is_file():
            path.unlink()
            removed += 1
    return removed
