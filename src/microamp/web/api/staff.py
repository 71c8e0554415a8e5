"""Staff administration for the owner: list, add (with a temporary password shown once),
change a role or disable, end a user's sessions. The rules are the Staff page's, from
`microamp.store.staff`: the last active owner cannot be demoted or disabled (409 naming why),
a role outside the three is a 422 naming ``role``. Every change is a security event."""

from __future__ import annotations

from fastapi import APIRouter, Request

from microamp.errors import NotFound
from microamp.store.models import User
from microamp.store.staff import add_staff, list_staff, set_active, set_role, set_working_hours
from microamp.store.staff_sessions import end_user_sessions
from microamp.web.api.models import (
    SessionsEnded,
    StaffChange,
    StaffCreate,
    StaffCreated,
    StaffPublic,
)
from microamp.web.api.responses import conflict, invalid
from microamp.web.deps import ApiUser, DbDep, RowId
from microamp.web.identity import security_event, wall_now
from microamp.web.security import hash_password, temporary_password

_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")
router = APIRouter(tags=["staff"])


def _public(user: User) -> StaffPublic:
    return StaffPublic(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        two_factor=user.two_factor,
        must_change_password=user.must_change_password,
        working_hours=user.working_hours,
    )


@router.get("/staff")
def staff(_owner: ApiUser, db: DbDep) -> list[StaffPublic]:
    """Everyone who signs in, owners first."""
    return [_public(user) for user in list_staff(db)]


@router.post(
    "/staff",
    status_code=201,
    responses=invalid(
        "`email` is not an address or another user has it, or `role` is not owner, practitioner or reception"
    ),
)
def add(request: Request, owner: ApiUser, db: DbDep, body: StaffCreate) -> StaffCreated:
    """Add a user with a temporary password, returned this once."""
    password = temporary_password()
    user = add_staff(db, email=body.email, display_name=body.display_name, role=body.role,
                     password_hash=hash_password(password))  # fmt: skip
    security_event(db, request, "staff.add", actor=owner, resource=f"user:{user.id}",
                   role=user.role)  # fmt: skip
    db.commit()
    return StaffCreated(**_public(user).model_dump(), temporary_password=password)


@router.patch(
    "/staff/{user_id}",
    responses={
        **invalid(
            "`role` is not owner, practitioner or reception, `working_hours` not weekdays with "
            "periods in order (or set for reception), or `user_id` is out of range"
        ),
        **conflict("The change would leave the clinic without an active owner"),
    },
)
def change(
    request: Request, owner: ApiUser, db: DbDep, user_id: RowId, body: StaffChange
) -> StaffPublic:
    """Change a user's role, disable (ending every session) or enable them, or set when they
    can be booked."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if body.role is not None and body.role != user.role:
        set_role(db, user_id=user_id, role=body.role)
        security_event(db, request, "staff.role", actor=owner, resource=f"user:{user_id}",
                       role=body.role)  # fmt: skip
    if body.active is not None and body.active != user.active:
        set_active(db, user_id=user_id, active=body.active, now=wall_now(request))
        action = "staff.enable" if body.active else "staff.disable"
        security_event(db, request, action, actor=owner, resource=f"user:{user_id}")
    if "working_hours" in body.model_fields_set:  # null is a value here: the clinic's hours
        set_working_hours(db, user_id=user_id, hours=body.working_hours)
        security_event(db, request, "staff.working_hours", actor=owner,
                       resource=f"user:{user_id}", working_hours=user.working_hours)  # fmt: skip
    db.commit()
    return _public(user)


@router.delete("/staff/{user_id}/sessions", responses=_ID)
def end_sessions(request: Request, owner: ApiUser, db: DbDep, user_id: RowId) -> SessionsEnded:
    """End every session of the user: their browsers are signed out at the next request."""
    if db.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}")
    ended = end_user_sessions(db, user_id=user_id, reason="ended by an owner",
                              now=wall_now(request))  # fmt: skip
    security_event(db, request, "staff.sessions_ended", actor=owner, resource=f"user:{user_id}",
                   sessions=ended)  # fmt: skip
    db.commit()
    return SessionsEnded(ended=ended)
