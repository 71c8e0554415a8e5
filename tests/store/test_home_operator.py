"""The home operator: her account's `home` user operates her own record only (the station asks
`check_home_operator` before any session starts); staff are not concerned by it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.store.crud import create_client, create_user
from microamp.store.db import Store
from microamp.store.home import check_home_operator, create_home_account, home_operator
from microamp.store.home_models import HomeAccount
from microamp.store.models import User

DAY = date(2030, 3, 4)


def _her(store: Store) -> tuple[int, int]:
    """(her operator's user id, her client id)."""
    with store.transaction() as db:
        account = create_home_account(db, display_name="Ines", date_of_birth=date(1979, 2, 3),
                                      password_hash="x", plan_start=DAY, today=DAY)  # fmt: skip
        for n in range(3):
            create_client(db, full_name=f"Other {n}", date_of_birth=date(1980, 1, 1), today=DAY)
        return home_operator(db, account).id, account.client_id


def test_her_operator_is_one_home_user_made_once(store: Store) -> None:
    operator_id, _client = _her(store)
    with store.transaction() as db:
        account = db.get(HomeAccount, 1)
        assert account is not None and home_operator(db, account).id == operator_id
        user = db.get(User, operator_id)
        assert user is not None and user.role == "home" and user.password_hash is None
        assert db.query(User).count() == 1


@examples(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(client_id=st.integers(min_value=-5, max_value=10_000))
def test_a_home_operator_may_run_no_record_but_her_own(store: Store, client_id: int) -> None:
    with store.transaction() as db:
        found = db.query(HomeAccount).first()
    operator_id, own = (found.operator_id, found.client_id) if found else _her(store)
    assert operator_id is not None
    with store.transaction() as db:
        if client_id == own:
            check_home_operator(db, operator_id=operator_id, client_id=client_id)
        else:
            with pytest.raises(InvalidValue, match="her own record only"):
                check_home_operator(db, operator_id=operator_id, client_id=client_id)


def test_an_inactive_home_operator_runs_nothing_and_staff_are_not_concerned(store: Store) -> None:
    operator_id, own = _her(store)
    with store.transaction() as db:
        staff = create_user(db, email="p@example.org", display_name="P", role="practitioner",
                            password_hash="x")  # fmt: skip
        check_home_operator(db, operator_id=staff.id, client_id=own + 1)
        user = db.get(User, operator_id)
        assert user is not None
        user.active = False
    with store.transaction() as db, pytest.raises(InvalidValue):
        check_home_operator(db, operator_id=operator_id, client_id=own)
