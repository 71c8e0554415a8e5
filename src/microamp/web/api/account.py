"""Who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from microamp.web.api.models import UserPublic
from microamp.web.deps import ApiUser

router = APIRouter(tags=["account"])


@router.get("/me")
def me(user: ApiUser) -> UserPublic:
    return UserPublic(id=user.id, email=user.email, display_name=user.display_name, role=user.role)
