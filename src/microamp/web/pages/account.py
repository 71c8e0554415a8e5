"""The signed-in user's account: personal API tokens (shown once, stored hashed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from microamp.errors import InvalidValue, NotFound
from microamp.store.access import create_api_token, list_api_tokens, revoke_api_token
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId
from microamp.web.errors import field_errors
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])


def _account(request: Request, user: PageUser, db: DbDep, **extra: Any) -> Response:
    return page(
        request,
        "account.html",
        user,
        title="Account",
        tokens=list_api_tokens(db, user_id=user.id),
        **extra,
    )


@router.get("/account")
def account(request: Request, user: PageUser, db: DbDep) -> Response:
    return _account(request, user, db)


@router.post("/account/tokens")
def new_token(
    request: Request, user: PageUser, db: DbDep, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    try:
        _, token = create_api_token(db, user_id=user.id, name=name)
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, {"name": "Name of a new token"}, {"name": "token-name"})
        return _account(request, user, db, errors=errors, typed_name=name, status_code=422)
    db.commit()
    return _account(request, user, db, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(user: PageUser, db: DbDep, token_id: RowId) -> Response:
    if revoke_api_token(db, user_id=user.id, token_id=token_id) is None:
        raise NotFound(f"no token {token_id} of yours")
    db.commit()
    return RedirectResponse("/account", status_code=303)
