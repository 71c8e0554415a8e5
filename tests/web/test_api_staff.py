"""The staff API (owner only): the Staff page's rules through /api/v1/staff, on SQLite and
PostgreSQL (each test a fresh clinic: the tests add, demote and disable users)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from web.conftest import Clinic, clinic_on, sign_in


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Clinic]:
    with clinic_on(database_url, tmp_path) as clinic:
        yield clinic


def _id_of(owner: httpx.Client, email: str) -> int:
    return next(u["id"] for u in owner.get("/api/v1/staff").json() if u["email"] == email)


def test_only_an_owner_lists_and_adds_staff(served: Clinic) -> None:
    for role in ("practitioner", "reception"):
        with served.api(role) as api:
            assert api.get("/api/v1/staff").status_code == 403
            assert api.post("/api/v1/staff", json={"email": "x@y.example"}).status_code == 403
    with served.api("owner") as owner:
        listed = owner.get("/api/v1/staff").json()
        assert [u["role"] for u in listed][0] == "owner" and len(listed) == 3


def test_a_new_user_gets_a_temporary_password_they_must_replace(served: Clinic) -> None:
    with served.api("owner") as owner:
        made = owner.post(
            "/api/v1/staff", json={"email": "hire@staff.example", "role": "reception"}
        )
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["must_change_password"] and body["display_name"] == "hire"
        with served.browser_client() as browser:
            step = sign_in(browser, "hire@staff.example", body["temporary_password"])
            assert step.headers["location"] == "/account/password"
        again = owner.post("/api/v1/staff", json={"email": "hire@staff.example"})
        assert again.status_code == 422 and again.json()["detail"][0]["loc"][-1] == "email"


def test_a_bad_role_is_a_422_naming_the_field(served: Clinic) -> None:
    with served.api("owner") as owner:
        made = owner.post("/api/v1/staff", json={"email": "a@staff.example", "role": "admin"})
        assert made.status_code == 422 and made.json()["detail"][0]["loc"][-1] == "role"
        uid = _id_of(owner, served.emails["reception"])
        patched = owner.patch(f"/api/v1/staff/{uid}", json={"role": "boss"})
        assert patched.status_code == 422 and patched.json()["detail"][0]["loc"][-1] == "role"


def test_the_last_owner_cannot_be_demoted_or_disabled(served: Clinic) -> None:
    with served.api("owner") as owner:
        me = _id_of(owner, served.emails["owner"])
        for change in ({"role": "reception"}, {"active": False}):
            refused = owner.patch(f"/api/v1/staff/{me}", json=change)
            assert refused.status_code == 409 and "last active owner" in refused.json()["detail"]
        other = _id_of(owner, served.emails["practitioner"])
        promoted = owner.patch(f"/api/v1/staff/{other}", json={"role": "owner"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
        assert owner.patch(f"/api/v1/staff/{me}", json={"role": "practitioner"}).status_code == 200
        assert owner.get("/api/v1/staff").status_code == 403  # no longer an owner


def test_disabling_and_ending_sessions_sign_the_user_out(served: Clinic) -> None:
    with served.api("owner") as owner:
        uid = _id_of(owner, served.emails["reception"])
        with closing(served.browser_client("reception")) as browser:
            assert browser.get("/").status_code == 200
            ended = owner.delete(f"/api/v1/staff/{uid}/sessions")
            assert ended.status_code == 200 and ended.json() == {"ended": 1}
            assert browser.get("/").status_code == 303
        disabled = owner.patch(f"/api/v1/staff/{uid}", json={"active": False})
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        with served.api("reception") as api:
            assert api.get("/api/v1/me").status_code == 401
        assert owner.delete("/api/v1/staff/9999/sessions").status_code == 404


def test_the_staff_operations_are_in_the_openapi_document(served: Clinic) -> None:
    with served.api() as anonymous:
        paths = anonymous.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/staff"])
    assert "patch" in paths["/api/v1/staff/{user_id}"]
    assert "delete" in paths["/api/v1/staff/{user_id}/sessions"]


def test_an_owner_sets_when_a_practitioner_can_be_booked(served: Clinic) -> None:
    with served.api("owner") as owner:
        nurse = _id_of(owner, "practitioner@test.example")
        desk = _id_of(owner, "reception@test.example")
        week = {"mon": [["09:00", "13:00"], ["14:00", "18:00"]], "wed": [["09:00", "13:00"]]}
        patched = owner.patch(f"/api/v1/staff/{nurse}", json={"working_hours": week})
        assert patched.status_code == 200, patched.text
        assert patched.json()["working_hours"] == week | {
            d: [] for d in ("tue", "thu", "fri", "sat", "sun")
        }
        # a role change alone leaves the hours as they were
        assert (
            owner.patch(f"/api/v1/staff/{nurse}", json={"active": True}).json()["working_hours"][
                "mon"
            ]
            == week["mon"]
        )
        backwards = owner.patch(f"/api/v1/staff/{nurse}",
                                json={"working_hours": {"mon": [["13:00", "09:00"]]}})  # fmt: skip
        assert backwards.status_code == 422
        assert backwards.json()["detail"][0]["loc"][-2:] == ["working_hours", "mon"]
        reception = owner.patch(f"/api/v1/staff/{desk}",
                                json={"working_hours": {"mon": [["09:00", "13:00"]]}})  # fmt: skip
        assert reception.status_code == 422 and "only owners and practitioners" in reception.text
        cleared = owner.patch(f"/api/v1/staff/{nurse}", json={"working_hours": None})
        assert cleared.status_code == 200 and cleared.json()["working_hours"] is None
    with served.api("practitioner") as practitioner:
        refused = practitioner.patch(f"/api/v1/staff/{nurse}", json={"working_hours": week})
        assert refused.status_code == 403
