"""Protocols by name: the library shipped with microamp, and protocols an owner stored.

A session names its protocol by name only (`PROTOCOL_NAME`); nothing here reads a path that a
request named. The library wins: a stored protocol may never take a library protocol's name.
A stored name keeps every version uploaded; a session runs the newest.

    with store.transaction() as db:
        stored = store_protocol(db, toml_text=text, uploaded_by_id=user.id, uploaded_by=email)
        protocol = load_named_protocol(db, "my-lift")
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue, InvalidValues, StoreError
from microamp.protocols import Protocol, library_names, load_protocol, parse_protocol
from microamp.protocols.validate import protocol_errors
from microamp.safety.limits import get_profile
from microamp.store.shared_models import StoredProtocol

__all__ = [
    "MAX_PROTOCOL_BYTES",
    "PROTOCOL_NAME",
    "ProtocolConflict",
    "check_protocol_name",
    "latest_stored",
    "load_named_protocol",
    "parse_protocol_text",
    "protocol_names",
    "store_protocol",
]

PROTOCOL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
NAME_RULE = "a protocol's name: a-z, 0-9 and -, at most 64 characters, not starting with -"
# The largest library protocol is a few kB; a file a hundred times that is no protocol.
MAX_PROTOCOL_BYTES = 256 * 1024


class ProtocolConflict(StoreError):
    """An upload whose name and version clash with the library or a stored protocol (409)."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


def check_protocol_name(name: str, field: str = "protocol") -> str:
    """``name`` if it is a protocol name; raises `InvalidValue` naming ``field`` otherwise."""
    if not isinstance(name, str) or not PROTOCOL_NAME.fullmatch(name):
        raise InvalidValue(field, name, NAME_RULE)
    return name


def latest_stored(db: Session, name: str) -> StoredProtocol | None:
    """The newest stored version of ``name``, if any."""
    return db.scalars(
        select(StoredProtocol)
        .where(StoredProtocol.name == name)
        .order_by(StoredProtocol.id.desc())
        .limit(1)
    ).first()


def protocol_names(db: Session) -> list[str]:
    """Every name a session may use: the library's and the stored ones, sorted."""
    stored = db.scalars(select(StoredProtocol.name).distinct()).all()
    return sorted(set(library_names()) | set(stored))


def load_named_protocol(db: Session, name: str, field: str = "protocol") -> Protocol:
    """The library protocol ``name``, else the newest stored version of it.

    Raises `InvalidValue` naming ``field`` for a name that is malformed or names nothing.
    """
    check_protocol_name(name, field)
    if name in library_names():
        return load_protocol(name)
    stored = latest_stored(db, name)
    if stored is None:
        raise InvalidValue(field, name, "no protocol by that name in the library or the store")
    return parse_protocol_text(stored.toml_text)


def _toml(text: str) -> dict[str, Any]:
    if len(text.encode("utf-8")) > MAX_PROTOCOL_BYTES:
        raise InvalidValue("file", f"{len(text)} characters", "a protocol is at most 256 kB")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue("file", "", f"is not valid TOML: {exc}") from None


def parse_protocol_text(text: str) -> Protocol:
    """A protocol from TOML text, checked against anatomy and its audience's limit profile.

    Raises `InvalidValue` (field ``file``) for text that is not TOML, `InvalidValues` naming
    every field that breaks a rule.
    """
    data = _toml(text)
    audience = data.get("audience")
    profile = get_profile(audience) if audience in ("home", "professional") else None
    errors = protocol_errors(data, profile)
    if errors:
        raise InvalidValues(errors)
    return parse_protocol(data, profile)


def store_protocol(
    db: Session, *, toml_text: str, uploaded_by_id: int | None, uploaded_by: str
) -> StoredProtocol:
    """Validate ``toml_text`` and store it as a new protocol or a new version of one.

    Raises `InvalidValue`/`InvalidValues` naming what is wrong (nothing is written), and
    `ProtocolConflict` for a library protocol's name or a version already stored.
    """
    protocol = parse_protocol_text(toml_text)
    if protocol.name in library_names():
        raise ProtocolConflict(
            protocol.name, f"{protocol.name!r} is a library protocol; choose another name"
        )
    clash = db.scalars(
        select(StoredProtocol).where(
            StoredProtocol.name == protocol.name, StoredProtocol.version == protocol.version
        )
    ).first()
    if clash is not None:
        raise ProtocolConflict(
            protocol.name,
            f"{protocol.name!r} version {protocol.version!r} is stored already; "
            "raise its version to store a new one",
        )
    row = StoredProtocol(
        name=protocol.name,
        version=protocol.version,
        title=protocol.title,
        toml_text=toml_text,
        content_hash=protocol.content_hash(),
        uploaded_by_id=uploaded_by_id,
        uploaded_by=uploaded_by,
    )
    db.add(row)
    try:
        db.flush()
    except IntegrityError:  # the same version stored by someone else a moment ago
        raise ProtocolConflict(
            protocol.name, f"{protocol.name!r} version {protocol.version!r} is stored already"
        ) from None
    return row
