"""Protocols: the names a session may use (library and stored), and an owner's upload.

An upload is the TOML text itself, validated before anything is written: 422 naming every
field that breaks a rule (under ``toml_text``), 409 for a library protocol's name or a version
already stored. No request names a file on the server.
"""

from __future__ import annotations

from fastapi import APIRouter

from microamp.protocols import library_names, load_protocol
from microamp.store.protocol_store import latest_stored, protocol_names, store_protocol
from microamp.store.shared_models import StoredProtocol
from microamp.web.api.models import ProtocolPublic, ProtocolUpload
from microamp.web.api.responses import conflict, invalid
from microamp.web.deps import ApiUser, DbDep, audit
from microamp.web.errors import field_prefix

router = APIRouter(tags=["protocols"])


def _stored_public(row: StoredProtocol) -> ProtocolPublic:
    return ProtocolPublic(
        name=row.name,
        title=row.title,
        version=row.version,
        source="store",
        content_hash=row.content_hash,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
    )


@router.get("/protocols")
def protocols(_user: ApiUser, db: DbDep) -> list[ProtocolPublic]:
    """The library's protocols, then the newest version of each stored one."""
    out = []
    for name in library_names():
        protocol = load_protocol(name)
        out.append(
            ProtocolPublic(
                name=name,
                title=protocol.title,
                version=protocol.version,
                source="library",
                content_hash=protocol.content_hash(),
            )  # fmt: skip
        )
    for name in protocol_names(db):
        stored = latest_stored(db, name)
        if stored is not None:
            out.append(_stored_public(stored))
    return out


@router.post(
    "/protocols",
    status_code=201,
    responses={
        **invalid(
            "The TOML does not parse, or a field of the protocol breaks a rule; each named under `toml_text`"
        ),
        **conflict(
            "The name is a library protocol's, or this version of the stored protocol is already kept"
        ),
    },
)
def upload(user: ApiUser, db: DbDep, body: ProtocolUpload) -> ProtocolPublic:
    """Store a new protocol, or a new version of a stored one (owner only)."""
    with field_prefix("toml_text"):
        row = store_protocol(
            db, toml_text=body.toml_text, uploaded_by_id=user.id, uploaded_by=user.email
        )
    audit(db, user, "write", f"protocol:{row.name}", version=row.version, hash=row.content_hash)
    return _stored_public(row)
