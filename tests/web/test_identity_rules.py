"""The order of the sign-in steps: nobody reaches the clinic's pages with a step still owed."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from microamp.store.models import User
from microamp.web.identity import STEP_PATHS, stage_for


@given(
    role=st.sampled_from(["owner", "practitioner", "reception"]),
    has_two_factor=st.booleans(),
    must_change=st.booleans(),
    required=st.booleans(),
    done=st.booleans(),
)
def test_signed_in_only_when_every_step_is_done(
    role: str, has_two_factor: bool, must_change: bool, required: bool, done: bool
) -> None:
    user = User(email="a@b.example", display_name="A", role=role, must_change_password=must_change)
    if has_two_factor:
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        user.totp_enabled_at = datetime(2026, 1, 1, tzinfo=UTC)
    stage = stage_for(user, two_factor_required=required, second_factor_done=done)
    assert stage in STEP_PATHS
    if has_two_factor and not done:
        assert stage == "second_factor"
    if stage == "signed_in":
        assert done or not has_two_factor
        assert not must_change
        assert has_two_factor or not required or role == "reception"
