"""Erasing a client through the API, the owner's alone: the plan (what would go, and whether a
retention hold refuses it), and the erasure itself, confirmed in its body. The erasure is the
store's (`microamp.store.erasure`), as the clinic web app and `microamp clients erase` run it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from microamp.errors import InvalidValue
from microamp.store.erasure import erase_client, erasure_plan, remove_files
from microamp.web.api.client_models import ErasedPublic, ErasurePlanPublic, ErasureRequest
from microamp.web.api.responses import conflict, invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["clients"])

_HELD = conflict(
    "A retention hold keeps the client's records: the clinic keeps them its retention setting's "
    "years after her last treatment. The detail names the rule and the day the hold lifts; only "
    "changing the setting lifts it"
)


@router.get(
    "/clients/{client_id}/erasure",
    responses=invalid("The id in the path is not a whole number from 1 to 2147483647"),
)
def plan(user: ApiUser, db: DbDep, client_id: RowId) -> ErasurePlanPublic:
    """What erasing the client would remove, by count, and the retention hold on it if any."""
    found = erasure_plan(db, client_id=client_id, today=date.today())
    # the plan tells of her treatment records: a read of her record
    audit(db, user, "read", f"client:{client_id}", client_id=client_id, view="api erasure plan")
    return ErasurePlanPublic.model_validate(found.to_dict())


@router.post(
    "/clients/{client_id}/erasure",
    responses=invalid("`confirm` is not true, or the body has a field other than `confirm`")
    | _HELD,
)
def erase(user: ApiUser, db: DbDep, client_id: RowId, body: ErasureRequest) -> ErasedPublic:
    """Erase the client: her personal content, intake forms, consents, photos and visits are
    deleted; her treatment records stay as dose figures without her; the audit log keeps
    verifying and records the erasure. It cannot be undone."""
    if not body.confirm:
        raise InvalidValue("confirm", False, "must be true: an erasure cannot be undone")
    done, files = erase_client(db, client_id=client_id, actor_id=user.id, actor=user.email,
                               today=date.today())  # fmt: skip
    db.commit()
    removed = remove_files(files)
    return ErasedPublic(erased=True, client_id=client_id, files=removed, **done.counts())
