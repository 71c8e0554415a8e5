"""Clients: contact details (every role may read, add, edit and archive them; the health
fields only practitioners and owners), search, and merging a duplicate (clinical roles)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.access import append_audit
from microamp.store.client_records import (
    HEALTH_FIELDS,
    SEARCH_CHARS,
    archive_client,
    count_clients,
    merge_clients,
    possible_duplicates,
    search_clients,
    unarchive_client,
    update_client,
)
from microamp.store.crud import create_client, get_client
from microamp.store.models import User
from microamp.web.api.client_models import (
    ClientRecordPublic,
    ClientUpdate,
    DuplicatesPublic,
    MergePublic,
    MergeRequest,
)
from microamp.web.api.models import ClientCreate, ClientPublic
from microamp.web.api.responses import Responses, invalid
from microamp.web.deps import MAX_ROW_ID, ApiUser, DbDep, RowId, audit
from microamp.web.roles import CLINICAL

_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")
_DUPLICATES: Responses = {
    409: {
        "model": DuplicatesPublic,
        "description": "A client with the same name and date of birth, email or phone is on "
        "file: the possible duplicates are listed; send `allow_duplicate: true` to add anyway",
    }
}
router = APIRouter(tags=["clients"])
MAX_PAGE = 10**7  # pages of a client search, at one client a page: more than any clinic has


@router.get(
    "/clients",
    responses=invalid(
        "`q` is over 200 characters, `limit` is not 1-500, `page` is not a whole number from 1, "
        "`offset` is out of range, or both `page` and `offset` are given"
    ),
)
def clients(
    request: Request,
    response: Response,
    user: ApiUser,
    db: DbDep,
    q: Annotated[str | None, Query(max_length=SEARCH_CHARS)] = None,
    archived: Annotated[bool, Query(description="Include archived clients.")] = False,
    limit: Annotated[int, Query(ge=1, le=500, description="Clients a page.")] = 100,
    page: Annotated[
        int | None, Query(ge=1, le=MAX_PAGE, description="The page, from 1, of `limit` clients.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> list[ClientPublic]:
    """Clients by name; `q` matches part of the name, email or phone (the phone also by its
    digits), and for practitioners and owners the allergies, medications and notes too. The
    `X-Total-Count` header is the number found on every page; `Link` names the `next` and
    `prev` pages (by `page`, or by `offset` when the request gave one)."""
    if page is not None and offset:
        raise InvalidValue("offset", offset, "not with page: give one of page and offset")
    clinical = user.role in CLINICAL
    start = (page - 1) * limit if page is not None else offset
    total = count_clients(db, q=q, clinical=clinical, include_archived=archived)
    found = (
        search_clients(
            db, q=q, clinical=clinical, include_archived=archived, limit=limit, offset=start
        )  # fmt: skip
        if start < total
        else []
    )
    if clinical and q:
        # the health fields were searched
        audit(db, user, "read", "clients:search", view="api search", results=len(found))
    response.headers["X-Total-Count"] = str(total)
    links = _page_links(request, start, limit, total, by_page=page is not None)
    if links:
        response.headers["Link"] = links
    return [ClientPublic.of(c) for c in found]


def _page_links(request: Request, start: int, limit: int, total: int, *, by_page: bool) -> str:
    """RFC 8288 links to the next and previous pages of a client search, if there are any."""
    links: list[str] = []
    for rel, at in (("prev", start - limit), ("next", start + limit)):
        if (rel == "prev" and start <= 0) or (rel == "next" and at >= total):
            continue
        at = max(at, 0)
        turned = {"page": str(at // limit + 1)} if by_page else {"offset": str(at)}
        url = request.url.include_query_params(**turned)
        links.append(f'<{url.path}?{url.query}>; rel="{rel}"')
    return ", ".join(links)


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientPublic,
    responses=invalid(
        "A field breaks its rule, each named: `full_name` 1-200 characters, `date_of_birth` not in the future, `email` an address, `preferred_weekdays` day names"
    )
    | _DUPLICATES,
)
def add_client(user: ApiUser, db: DbDep, body: ClientCreate) -> ClientPublic | JSONResponse:
    if not body.allow_duplicate:
        found = possible_duplicates(
            db,
            full_name=body.full_name,
            date_of_birth=body.date_of_birth,
            email=body.email,
            phone=body.phone,
        )
        if found:
            answer = DuplicatesPublic(
                detail="this client may be on file already",
                possible_duplicates=[ClientPublic.of(c) for c in found],
            )
            return JSONResponse(answer.model_dump(mode="json"), 409)
    client = create_client(
        db,
        full_name=body.full_name,
        date_of_birth=body.date_of_birth,
        email=body.email,
        phone=body.phone,
        preferred_weekdays=body.preferred_weekdays,
        today=date.today(),
    )
    audit(db, user, "write", f"client:{client.id}", client_id=client.id, change="created")
    return ClientPublic.of(client)


@router.get("/clients/{client_id}", responses=_ID)
def client(_user: ApiUser, db: DbDep, client_id: RowId) -> ClientPublic:
    return ClientPublic.of(get_client(db, client_id=client_id))


def _record(
    user: User, db: Session, client_id: int, changed: list[str] | None = None
) -> ClientRecordPublic:
    client = get_client(db, client_id=client_id)
    return ClientRecordPublic.record(client, clinical=user.role in CLINICAL, changed=changed)


@router.patch(
    "/clients/{client_id}",
    responses=invalid(
        "A field breaks its rule, each named (as for adding a client; `fitzpatrick_type` I-VI, "
        "`allergies`, `medications`, `notes` up to 4000 characters), or the client was merged "
        "into another"
    ),
)
def edit_client(
    user: ApiUser, db: DbDep, client_id: RowId, body: ClientUpdate
) -> ClientRecordPublic:
    """Change the fields given. Reception may not change the health fields (403)."""
    changes = body.model_dump(exclude_unset=True)
    health = sorted(set(changes) & set(HEALTH_FIELDS))
    if health and user.role not in CLINICAL:
        raise HTTPException(403, f"only practitioners and owners change {', '.join(health)}")
    for field, value in changes.items():
        if value is None and field not in ("email", "phone"):
            raise InvalidValue(field, None, "may not be null (leave the field out instead)")
    _, changed = update_client(db, client_id=client_id, changes=changes, today=date.today())
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change="edited",
          fields=",".join(changed))  # fmt: skip
    return _record(user, db, client_id, changed=changed)


@router.post("/clients/{client_id}/archive", responses=_ID)
def archive(user: ApiUser, db: DbDep, client_id: RowId) -> ClientRecordPublic:
    """Archive the client: she leaves lists and search unless `archived=true` is asked."""
    archive_client(db, client_id=client_id)
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change="archived")
    return _record(user, db, client_id)


@router.delete(
    "/clients/{client_id}/archive",
    responses=invalid("The client was merged into another and stays archived"),
)
def unarchive(user: ApiUser, db: DbDep, client_id: RowId) -> ClientRecordPublic:
    """Bring an archived client back into lists and search."""
    unarchive_client(db, client_id=client_id)
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change="unarchived")
    return _record(user, db, client_id)


@router.post(
    "/clients/{client_id}/merge",
    responses=invalid(
        "`confirm` is not true, the duplicate is the client kept, or either was merged already"
    ),
)
def merge(user: ApiUser, db: DbDep, client_id: RowId, body: MergeRequest) -> MergePublic:
    """Merge the duplicate into this client: every record of the duplicate moves here and the
    duplicate stays archived, naming this client. It cannot be undone."""
    if not body.confirm:
        raise InvalidValue("confirm", False, "must be true: a merge cannot be undone")
    moved = merge_clients(db, keep_id=client_id, duplicate_id=body.duplicate_id)
    summary = ",".join(f"{table}={count}" for table, count in sorted(moved.items()))
    append_audit(db, actor_id=user.id, actor=user.email, action="write",
                 resource=f"client:{body.duplicate_id}", client_id=body.duplicate_id,
                 detail={"change": "merged away", "kept_id": client_id})  # fmt: skip
    audit(db, user, "write", f"client:{client_id}", client_id=client_id, change="merged",
          duplicate_id=body.duplicate_id, moved=summary)  # fmt: skip
    return MergePublic(kept_id=client_id, duplicate_id=body.duplicate_id, moved=moved)
