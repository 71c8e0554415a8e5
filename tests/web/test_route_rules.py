"""Every route has an explicit rule in the roles table, and the rule holds: no sign-in is a
redirect (pages) or 401 (API), a role that may not is 403, a role that may gets through."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from microamp.web.app import declared_routes
from microamp.web.deps import STEP_GUARDS, api_user, page_user
from microamp.web.roles import PUBLIC, ROUTE_ROLES, STAFF
from web.conftest import ROLES, Clinic, csrf_of

SAMPLE = {
    "client_id": "{client}",
    "record_id": "1",
    "plan_id": "1",
    "appointment_id": "999",
    "closure_id": "999",
    "room_id": "999",
    "service_id": "999",
    "live_id": "0",
    "token_id": "999",
    "entry_id": "999",
    "link_id": "999",
    "submission_id": "999",
    "token": "not-a-link",
    "name": "home-express",
    "number": "1",
    "kind": "pre",
    "template_id": "999",
    "resource_type": "Procedure",
    "resource_id": "999",
    "table": "clients",
    "user_id": "999",  # nobody: the owner's own row is never reset or ended here
}


# they end the shared sessions of the tests below: covered by tests/web/test_staff_identity.py
SIGNING_OUT = {("POST", "/signout"), ("POST", "/account/sign-out-everywhere")}


def app_routes(clinic: Clinic) -> Iterator[tuple[str, str]]:
    for method, path, _route in declared_routes(clinic.app):
        yield method, path


def _calls(dependant: Dependant) -> Iterator[object]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def url_of(path: str, clinic: Clinic) -> str:
    filled = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
    return filled.replace("{client}", str(clinic.clients["cleared"]))


def test_every_route_has_a_rule_and_every_rule_a_route(sqlite_clinic: Clinic) -> None:
    routes = set(app_routes(sqlite_clinic))
    assert routes, "no routes found"
    missing = sorted(r for r in routes if r not in ROUTE_ROLES)
    assert not missing, f"routes without a role rule in microamp.web.roles: {missing}"
    stale = sorted(r for r in ROUTE_ROLES if r not in routes)
    assert not stale, f"rules for routes that do not exist: {stale}"


def test_every_guarded_route_checks_the_user(sqlite_clinic: Clinic) -> None:
    for method, path, route in declared_routes(sqlite_clinic.app):
        if ROUTE_ROLES[(method, path)] == PUBLIC:
            continue
        assert isinstance(route, APIRoute), f"{path} is guarded but not an API route"
        calls = set(_calls(route.dependant))
        guards = {page_user, api_user, *STEP_GUARDS}
        assert calls & guards, f"{method} {path} never checks the user"


def test_reception_is_kept_to_the_schedule_and_contacts() -> None:
    allowed = {path for (method, path), roles in ROUTE_ROLES.items() if "reception" in roles}
    health = ("intake", "screening", "consent", "clearance", "plans", "progress", "records",
              "sessions", "live", "console", "protocols", "gate")  # fmt: skip
    leaks = sorted(p for p in allowed if any(word in p for word in health))
    assert not leaks, f"reception may reach health data: {leaks}"


def _routes(prefix_api: bool) -> list[tuple[str, str]]:
    return sorted(
        (m, p) for (m, p), roles in ROUTE_ROLES.items()
        if p.startswith("/api/") == prefix_api and roles != PUBLIC
    )  # fmt: skip


@pytest.mark.parametrize(("method", "path"), _routes(prefix_api=True))
def test_api_route_auth_and_roles(clinic: Clinic, method: str, path: str) -> None:
    url = url_of(path, clinic)
    with clinic.api() as anonymous:
        assert anonymous.request(method, url).status_code == 401
    with clinic.api() as forged:
        forged.headers["Authorization"] = "Bearer mat_not-a-token"
        assert forged.request(method, url).status_code == 401
    for role in ROLES:
        with clinic.api(role) as api:
            status = api.request(method, url, json={}).status_code
        if role in ROUTE_ROLES[(method, path)]:
            assert status not in (401, 403), f"{role} refused on {method} {path}"
        else:
            assert status == 403, f"{role} got {status} on {method} {path}"


@pytest.fixture(scope="module")
def sessions(sqlite_clinic: Clinic) -> Iterator[dict[str | None, httpx.Client]]:
    clients = {role: sqlite_clinic.browser_client(role) for role in ROLES}
    anonymous = sqlite_clinic.browser_client()
    try:
        yield {None: anonymous, **clients}
    finally:
        for client in (anonymous, *clients.values()):
            client.close()


def _page_request(
    client: httpx.Client, method: str, url: str, signed_in: bool = True
) -> httpx.Response:
    if method == "GET":
        return client.get(url)
    token = csrf_of(client.get("/account" if signed_in else "/signin").text)
    return client.request(method, url, data={"csrf_token": token})


@pytest.mark.parametrize(
    ("method", "path"), [r for r in _routes(prefix_api=False) if r not in SIGNING_OUT]
)
def test_page_route_auth_and_roles(
    sqlite_clinic: Clinic, sessions: dict[str | None, httpx.Client], method: str, path: str
) -> None:
    url = url_of(path, sqlite_clinic)
    anonymous = _page_request(sessions[None], method, url, signed_in=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin")
    for role in ROLES:
        response = _page_request(sessions[role], method, url)
        if role in ROUTE_ROLES[(method, path)]:
            assert response.status_code not in (401, 403), f"{role} refused on {method} {path}"
            assert not response.headers.get("location", "").startswith("/signin")
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} on {path}"


def test_signout_needs_staff_and_a_csrf_token(sqlite_clinic: Clinic) -> None:
    assert ROUTE_ROLES[("POST", "/signout")] == STAFF
    client = sqlite_clinic.browser_client("reception")
    try:
        assert client.post("/signout").status_code == 403  # no CSRF token
        token = csrf_of(client.get("/").text)
        response = client.post("/signout", data={"csrf_token": token})
        assert response.status_code == 303
        assert client.get("/").status_code == 303
    finally:
        client.close()
