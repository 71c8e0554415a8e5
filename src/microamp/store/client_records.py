"""Client records kept up to date: edit, archive, search, possible duplicates, and merging a
duplicate into the client kept.

The caller audits and commits, as with `microamp.store.crud`. Bad input is `InvalidValue`
naming the field; a missing client is `NotFound`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    String,
    Table,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Session

from microamp.clinic.plans import WEEKDAYS
from microamp.errors import InvalidValue
from microamp.store.base import Base, utc_now
from microamp.store.book import check_merge
from microamp.store.crud import _email, clean_text, get_client, parse_fitzpatrick
from microamp.store.models import Client

__all__ = [
    "EDITABLE",
    "HEALTH_FIELDS",
    "PER_PAGE",
    "SEARCH_CHARS",
    "ClientPage",
    "count_clients",
    "archive_client",
    "has_archived",
    "merge_clients",
    "possible_duplicates",
    "search_clients",
    "search_page",
    "unarchive_client",
    "update_client",
]

# health data: only clinical roles edit or search it
HEALTH_FIELDS = ("fitzpatrick_type", "concerns", "allergies", "medications", "notes")
EDITABLE = ("full_name", "date_of_birth", "email", "phone", "preferred_weekdays", *HEALTH_FIELDS)
_LONG_TEXT = 4000
# tables that name a client without a foreign key, moved by a merge as well
_LOOSE_REFERENCES = (("live_sessions", "client_id"),)


def _weekdays(values: Iterable[str]) -> list[str]:
    days = [d.strip().lower()[:3] for d in values]
    for day in days:
        if day not in WEEKDAYS:
            raise InvalidValue("preferred_weekdays", day, f"one of {', '.join(WEEKDAYS)}")
    return list(dict.fromkeys(days))


def _long_text(field: str, value: str) -> str:
    text = value.strip()
    if len(text) > _LONG_TEXT:
        raise InvalidValue(field, f"{len(text)} characters", f"at most {_LONG_TEXT} characters")
    return text


def _clean(field: str, value: Any, today: date) -> Any:
    if field == "full_name":
        return clean_text("full_name", str(value))
    if field == "date_of_birth":
        if not isinstance(value, date):
            raise InvalidValue("date_of_birth", value, "a date as YYYY-MM-DD")
        if value > today:
            raise InvalidValue("date_of_birth", value.isoformat(), "is in the future")
        return value
    if field == "email":
        return _email(value)
    if field == "phone":
        phone = (value or "").strip()
        if len(phone) > 40:
            raise InvalidValue("phone", phone, "at most 40 characters")
        return phone or None
    if field == "fitzpatrick_type":
        try:
            return parse_fitzpatrick(value)
        except InvalidValue as exc:
            raise InvalidValue("fitzpatrick_type", value, exc.rule) from None
    if field == "concerns":
        return [clean_text("concerns", c, max_length=100) for c in value if c.strip()]
    if field == "preferred_weekdays":
        return _weekdays(value)
    return _long_text(field, value or "")


def update_client(
    session: Session, *, client_id: int, changes: Mapping[str, Any], today: date
) -> tuple[Client, list[str]]:
    """Apply ``changes`` (field name to new value, only `EDITABLE` fields) to the client and
    return it with the names of the fields whose value changed. Every value is checked before
    any is written. A merged duplicate is not edited (its record lives on the kept client)."""
    client = get_client(session, client_id=client_id)
    if client.merged_into_id is not None:
        raise InvalidValue(
            "client_id", client_id, f"was merged into client {client.merged_into_id}"
        )
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in EDITABLE:
            raise InvalidValue(field, value, f"not an editable field ({', '.join(EDITABLE)})")
        cleaned[field] = _clean(field, value, today)
    changed = [f for f, v in cleaned.items() if getattr(client, f) != v]
    for field in changed:
        setattr(client, field, cleaned[field])
    session.flush()
    return client, changed


def archive_client(session: Session, *, client_id: int, now: datetime | None = None) -> Client:
    """Archive the client: she leaves lists and search unless they ask for archived ones."""
    client = get_client(session, client_id=client_id)
    if client.archived_at is None:
        client.archived_at = now or utc_now()
    session.flush()
    return client


def unarchive_client(session: Session, *, client_id: int) -> Client:
    """Bring an archived client back into lists; a merged duplicate stays archived."""
    client = get_client(session, client_id=client_id)
    if client.merged_into_id is not None:
        raise InvalidValue(
            "client_id", client_id, f"was merged into client {client.merged_into_id}"
        )
    client.archived_at = None
    session.flush()
    return client


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _phone_digits(column: Any) -> Any:
    """The column with the usual separators of a phone number removed, in SQL."""
    for separator in (" ", "-", ".", "(", ")", "+", "/"):
        column = func.replace(column, separator, "")
    return column


def _matcher(session: Session) -> Callable[[Any, str], ColumnElement[bool]]:
    """Case-blind LIKE for the session's database. On SQLite, ``ilike`` becomes
    ``lower(x) LIKE lower(y)``, which folds only ASCII letters: exactly what SQLite's own LIKE
    does, at a third of the cost (no lower() of every column of every row: the search reads the
    whole table). PostgreSQL has ILIKE itself."""
    if session.get_bind().dialect.name == "sqlite":
        return lambda column, pattern: column.like(pattern)
    return lambda column, pattern: column.ilike(pattern)


def _search_filter(
    session: Session, q: str | None, clinical: bool, include_archived: bool
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a client search (see `search_clients`)."""
    where: list[ColumnElement[bool]] = []
    if not include_archived:
        where.append(Client.archived_at.is_(None))
    text = " ".join((q or "").split())
    if "\x00" in text:
        # no stored text holds one (PostgreSQL cannot), and each engine would fail on it its
        # own way: PostgreSQL refuses the string, SQLite's FTS5 ends its query there
        raise InvalidValue("q", q, "a search without NUL characters")
    if text:
        pattern, sqlite = f"%{text}%", session.get_bind().dialect.name == "sqlite"
        fields = _CLINICAL_FIELDS if clinical else _PLAIN_FIELDS
        matches: list[ColumnElement[bool]]
        if not sqlite and _indexable(text):
            matches = [_one_text(fields).ilike(pattern)]
        else:
            contains = _matcher(session)
            matches = [contains(field, pattern) for field in fields]
        digits = _digits(text)
        if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "")) - 1:
            matches.append(_phone_digits(Client.phone).like(f"%{digits}%"))
        where.append(or_(*matches))
        if sqlite and _indexable(text):
            where.append(Client.id.in_(_trigram_candidates(text, digits, clinical)))
    return where


# the fields a search looks in, by role (`_PLAIN_COLUMNS` and `_CLINICAL_COLUMNS` below, in FTS5)
_PLAIN_FIELDS = (Client.full_name, Client.email, Client.phone)
_CLINICAL_FIELDS = (*_PLAIN_FIELDS, Client.allergies, Client.medications, Client.notes)
_APART = literal_column("chr(31)", String)  # U+001F: whitespace to `str.split`, so in no search


def _one_text(fields: tuple[Any, ...]) -> ColumnElement[str]:
    """The ``fields`` as one text, each apart from the next by U+001F, exactly as PostgreSQL's
    indexes ``client_search_plain`` and ``client_search_clinical`` (migration 0021) are built, so
    one trigram index serves the whole search. Without a LIKE wildcard in the pattern (which
    could match U+001F, or run across it) it matches what an ILIKE on each field would."""
    joined: ColumnElement[str] = func.coalesce(fields[0], literal_column("''", String))
    for field in fields[1:]:
        joined = joined + _APART + func.coalesce(field, literal_column("''", String))
    return joined


# the columns of the trigram index (migration 0018) a search may look in, by role
_PLAIN_COLUMNS = "full_name email phone"
_CLINICAL_COLUMNS = f"{_PLAIN_COLUMNS} allergies medications notes"
_TRIGRAM = 3  # the index's unit: shorter queries scan the table as before


def _indexable(text: str) -> bool:
    """Whether the trigram index can narrow a search for ``text``: at least three characters,
    no LIKE wildcard (which the index would take literally) and no NUL (which ends an FTS5
    query string early: "unterminated string"; `_search_filter` refuses it before)."""
    return len(text) >= _TRIGRAM and not any(c in text for c in "%_\x00")


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _trigram_candidates(text: str, digits: str, clinical: bool) -> Any:
    """The ids of the clients the SQLite trigram index finds for ``text``: every client the
    LIKE clauses match, and a few more (its case folding is wider), so the LIKE beside it keeps
    the results exact while the table is no longer read whole. Health fields only when
    ``clinical``."""
    columns = _CLINICAL_COLUMNS if clinical else _PLAIN_COLUMNS
    query = f"{{{columns}}} : {_phrase(text)}"
    if len(digits) >= _TRIGRAM:
        query += f" OR phone_digits : {_phrase(digits)}"
    return (
        select(sql_column("rowid"))
        .select_from(sql_table("client_search"))
        .where(text_clause("client_search MATCH :fts").bindparams(fts=query))
    )


def search_clients(
    session: Session,
    *,
    q: str | None = None,
    clinical: bool = False,
    include_archived: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[Client]:
    """Clients by name. ``q`` matches any part of the name, the email or the phone (the phone
    also by its digits alone, so "0612" finds "06 12 34 56 78"), case aside; with ``clinical``
    also the allergies, medications and notes. Archived clients only with
    ``include_archived``."""
    where = _search_filter(session, q, clinical, include_archived)
    query = select(Client).where(*where).order_by(Client.full_name, Client.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_clients(
    session: Session,
    *,
    q: str | None = None,
    clinical: bool = False,
    include_archived: bool = False,
) -> int:
    """How many clients `search_clients` finds with the same ``q``, ``clinical`` and
    ``include_archived``, all pages together."""
    where = _search_filter(session, q, clinical, include_archived)
    return session.scalar(select(func.count()).select_from(Client).where(*where)) or 0


@dataclass(frozen=True, slots=True)
class ClientPage:
    """One page of a client search: ``clients`` are rows ``(page - 1) * per_page`` on of the
    ``total`` found, by name; a ``page`` past the last has none."""

    clients: list[Client]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """The number of pages, at least one (an empty list is one empty page)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def past_end(self) -> bool:
        return self.page > self.pages


PER_PAGE = 25
MAX_PER_PAGE = 500
SEARCH_CHARS = 200  # the longest search the pages and the API take


def search_page(
    session: Session,
    *,
    q: str | None = None,
    clinical: bool = False,
    include_archived: bool = False,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ClientPage:
    """Page ``page`` (from 1) of `search_clients`, ``per_page`` clients a page (1-500), with
    the number found in all."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidValue("per_page", per_page, f"a whole number from 1 to {MAX_PER_PAGE}")
    if page < 1:
        raise InvalidValue("page", page, "a whole number from 1")
    offset = (page - 1) * per_page
    found = search_clients(session, q=q, clinical=clinical, include_archived=include_archived,
                           limit=per_page, offset=offset)  # fmt: skip
    if 0 < len(found) < per_page or (page == 1 and not found):
        total = offset + len(found)  # the last page: no second pass over the table to count
    else:
        total = count_clients(session, q=q, clinical=clinical, include_archived=include_archived)
    return ClientPage(clients=found, total=total, page=page, per_page=per_page)


def possible_duplicates(
    session: Session,
    *,
    full_name: str,
    date_of_birth: date | None,
    email: str | None = None,
    phone: str | None = None,
    exclude_id: int | None = None,
) -> list[Client]:
    """Clients (not merged away) who may be the same person: the same name (case and spacing
    aside) and date of birth, or the same email (case aside), or the same phone digits."""
    matches: list[ColumnElement[bool]] = []
    name = " ".join(full_name.split()).lower()
    if name and date_of_birth is not None:
        matches.append(
            (func.lower(Client.full_name) == name) & (Client.date_of_birth == date_of_birth)
        )
    if email and email.strip():
        matches.append(func.lower(Client.email) == email.strip().lower())
    digits = _digits(phone or "")
    if len(digits) >= 6:
        matches.append(_phone_digits(Client.phone) == digits)
    if not matches:
        return []
    query = select(Client).where(or_(*matches), Client.merged_into_id.is_(None))
    if exclude_id is not None:
        query = query.where(Client.id != exclude_id)
    return list(session.scalars(query.order_by(Client.id).limit(20)))


def _client_references() -> list[tuple[Table, str]]:
    """Every (table, column) that names a client: the foreign keys to clients.id in the
    metadata (so a table added later moves too), and the few loose references."""
    found: list[tuple[Table, str]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "clients" and table.name != "clients":
                found.append((table, fk.parent.name))
    for name, column in _LOOSE_REFERENCES:
        if name in Base.metadata.tables:
            found.append((Base.metadata.tables[name], column))
    return found


def _joined(kept: str, other: str) -> str:
    if not other.strip() or other.strip() in kept:
        return kept
    return f"{kept}\n{other}".strip()


def merge_clients(
    session: Session, *, keep_id: int, duplicate_id: int, now: datetime | None = None
) -> dict[str, int]:
    """Move everything of the duplicate to the kept client, irreversibly: every row that names
    the duplicate (intake, screenings and safety flags, consents, clearances, plans, sessions,
    photos, and any table that refers to a client) now names the kept client; contact details
    the kept client lacks, concerns, allergies, medications and notes are added to hers. The
    duplicate stays, archived, naming the client it was merged into. Returns the rows moved by
    table. Raises `Conflict` if the two have live appointments that overlap. The audit log is append-only: its rows keep the ids they were written with."""
    if keep_id == duplicate_id:
        raise InvalidValue("duplicate_id", duplicate_id, "is the client kept")
    kept = get_client(session, client_id=keep_id)
    duplicate = get_client(session, client_id=duplicate_id)
    for field, client in (("keep_id", kept), ("duplicate_id", duplicate)):
        if client.merged_into_id is not None:
            raise InvalidValue(
                field, client.id, f"was already merged into client {client.merged_into_id}"
            )
    check_merge(session, keep_id=kept.id, duplicate_id=duplicate.id)
    moved: dict[str, int] = {}
    for table, column in _client_references():
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(table)
            .where(table.c[column] == duplicate.id)
            .values({column: kept.id})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            moved[table.name] = moved.get(table.name, 0) + result.rowcount
    kept.email = kept.email or duplicate.email
    kept.phone = kept.phone or duplicate.phone
    kept.fitzpatrick_type = kept.fitzpatrick_type or duplicate.fitzpatrick_type
    kept.concerns = list(dict.fromkeys([*kept.concerns, *duplicate.concerns]))
    kept.preferred_weekdays = kept.preferred_weekdays or duplicate.preferred_weekdays
    for field in ("allergies", "medications", "notes"):
        setattr(kept, field, _joined(getattr(kept, field), getattr(duplicate, field)))
    duplicate.merged_into_id = kept.id
    duplicate.archived_at = duplicate.archived_at or now or utc_now()
    session.flush()
    session.expire_all()
    return moved


def has_archived(session: Session) -> bool:
    """Whether any client is archived (the list then offers to show them)."""
    return (
        session.scalar(select(Client.id).where(Client.archived_at.is_not(None)).limit(1))
        is not None
    )
