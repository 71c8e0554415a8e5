"""Who may use each route: one declarative table, enforced by `authorize` and walked by a test.

A route missing from the table is refused to everybody (and a test fails), so a new route
cannot ship without an explicit rule. Reception sees the schedule and contact details only: no
health answers, no records, no stimulation.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CLINICAL", "OWNER", "PUBLIC", "ROUTE_ROLES", "STAFF", "allowed_roles"]

OWNER: Final = frozenset({"owner"})
CLINICAL: Final = frozenset({"owner", "practitioner"})
STAFF: Final = frozenset({"owner", "practitioner", "reception"})
PUBLIC: Final = frozenset({"*"})

API = "/api/v1"

ROUTE_ROLES: Final[dict[tuple[str, str], frozenset[str]]] = {
    # signing in and out
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): STAFF,
    ("GET", "/signin/code"): STAFF,
    ("POST", "/signin/code"): STAFF,
    ("GET", "/healthz"): PUBLIC,
    # first run: only the one-time link printed by `microamp serve` opens it (see pages/setup)
    ("GET", "/setup/{token}"): PUBLIC,
    ("POST", "/setup/{token}"): PUBLIC,
    # the schedule and contact details
    ("GET", "/"): STAFF,
    ("GET", "/book"): STAFF,
    ("GET", "/book/week"): STAFF,
    ("GET", "/book/clients"): STAFF,
    ("POST", "/book/{appointment_id}/drop"): STAFF,
    ("POST", "/book"): STAFF,
    ("POST", "/book/{appointment_id}/state"): STAFF,
    ("GET", "/book/{appointment_id}/move"): STAFF,
    ("POST", "/book/{appointment_id}/move"): STAFF,
    ("GET", "/clients"): STAFF,
    ("POST", "/clients"): STAFF,
    ("GET", "/clients/{client_id}"): STAFF,
    ("GET", "/clients/{client_id}/edit"): STAFF,
    ("POST", "/clients/{client_id}/edit"): STAFF,
    ("POST", "/clients/{client_id}/archive"): STAFF,
    ("GET", "/care/{kind}"): STAFF,
    ("GET", "/account"): STAFF,
    ("POST", "/account/tokens"): STAFF,
    ("POST", "/account/tokens/{token_id}/revoke"): STAFF,
    ("POST", "/account/sign-out-everywhere"): STAFF,
    ("GET", "/account/password"): STAFF,
    ("POST", "/account/password"): STAFF,
    ("GET", "/account/two-factor"): STAFF,
    ("POST", "/account/two-factor"): STAFF,
    ("POST", "/account/two-factor/off"): STAFF,
    ("POST", "/account/recovery-codes"): STAFF,
    # staff administration
    ("GET", "/staff"): OWNER,
    ("GET", "/audit"): OWNER,
    ("GET", "/audit.csv"): OWNER,
    ("POST", "/staff"): OWNER,
    ("POST", "/staff/{user_id}/role"): OWNER,
    ("POST", "/staff/{user_id}/active"): OWNER,
    ("POST", "/staff/{user_id}/reset-password"): OWNER,
    ("POST", "/staff/{user_id}/end-sessions"): OWNER,
    ("POST", "/staff/{user_id}/remove-two-factor"): OWNER,
    ("POST", "/staff/two-factor-policy"): OWNER,
    # erasing a client: the owner's alone
    ("GET", "/clients/{client_id}/erase"): OWNER,
    ("POST", "/clients/{client_id}/erase"): OWNER,
    ("GET", "/clients/{client_id}/erased"): OWNER,
    ("GET", "/settings/mail"): OWNER,
    ("POST", "/settings/mail"): OWNER,
    ("POST", "/settings/mail/test"): OWNER,
    ("GET", "/settings/clinic"): OWNER,
    ("GET", "/settings/exports.csv"): OWNER,
    ("POST", "/settings/clinic"): OWNER,
    ("POST", "/settings/clinic/closures"): OWNER,
    ("POST", "/settings/clinic/closures/{closure_id}/remove"): OWNER,
    ("POST", "/settings/clinic/rooms"): OWNER,
    ("POST", "/settings/clinic/rooms/{room_id}/active"): OWNER,
    ("GET", "/settings/clinic/rooms/{room_id}"): OWNER,
    ("POST", "/settings/clinic/rooms/{room_id}"): OWNER,
    ("POST", "/settings/clinic/services"): OWNER,
    ("POST", "/settings/clinic/services/{service_id}/active"): OWNER,
    ("GET", "/settings/clinic/services/{service_id}"): OWNER,
    ("POST", "/settings/clinic/services/{service_id}"): OWNER,
    # forms before the visit: staff make and withdraw a client's link, the client fills it
    ("POST", "/clients/{client_id}/previsit"): STAFF,
    ("POST", "/clients/{client_id}/previsit/{link_id}/revoke"): STAFF,
    ("GET", "/previsit/{token}"): PUBLIC,
    ("GET", "/visit/{token}"): PUBLIC,
    ("POST", "/visit/{token}/confirm"): PUBLIC,
    ("POST", "/visit/{token}/cancel"): PUBLIC,
    ("POST", "/previsit/{token}"): PUBLIC,
    ("POST", "/clients/{client_id}/previsit-forms/{submission_id}/review"): CLINICAL,
    ("GET", "/clients/{client_id}/previsit-forms/{submission_id}.pdf"): CLINICAL,
    ("GET", "/packages"): OWNER,
    ("POST", "/packages"): OWNER,
    ("POST", "/clients/{client_id}/packages"): STAFF,
    ("POST", "/clients/{client_id}/payments"): STAFF,
    ("GET", "/takings"): STAFF,
    ("GET", "/note-templates"): OWNER,
    ("POST", "/note-templates"): OWNER,
    ("POST", "/note-templates/{template_id}/delete"): OWNER,
    # health data
    ("GET", "/clients/{client_id}/intake"): CLINICAL,
    ("POST", "/clients/{client_id}/intake"): CLINICAL,
    ("POST", "/clients/{client_id}/consent"): CLINICAL,
    ("GET", "/clients/{client_id}/merge"): CLINICAL,
    ("POST", "/clients/{client_id}/merge"): CLINICAL,
    ("POST", "/clients/{client_id}/skin"): CLINICAL,
    ("POST", "/clients/{client_id}/clearance"): CLINICAL,
    ("POST", "/clients/{client_id}/flags/lift"): CLINICAL,
    ("POST", "/clients/{client_id}/plans"): CLINICAL,
    ("GET", "/clients/{client_id}/plans/{plan_id}.ics"): CLINICAL,
    ("POST", "/clients/{client_id}/progress"): CLINICAL,
    ("GET", "/clients/{client_id}/progress/{entry_id}/photo"): CLINICAL,
    # measured results: the outcome page, its CSV, the comparison view and standardised capture
    ("GET", "/clients/{client_id}/outcomes"): CLINICAL,
    ("GET", "/outcomes/sticker.svg"): CLINICAL,
    ("GET", "/clients/{client_id}/outcomes.csv"): CLINICAL,
    ("GET", "/clients/{client_id}/export.zip"): CLINICAL,
    ("GET", "/clients/{client_id}/compare"): CLINICAL,
    ("GET", "/clients/{client_id}/progress/{entry_id}/aligned"): CLINICAL,
    ("GET", "/clients/{client_id}/capture"): CLINICAL,
    ("POST", "/clients/{client_id}/capture"): CLINICAL,
    ("GET", "/protocols"): CLINICAL,
    ("GET", "/protocols/{name}"): CLINICAL,
    ("GET", "/protocols/{name}/steps/{number}/pulse"): CLINICAL,
    ("POST", "/protocols/upload"): OWNER,
    ("GET", "/console"): CLINICAL,
    ("GET", "/console/clients"): CLINICAL,
    ("POST", "/console/prechecks"): CLINICAL,
    ("POST", "/console/start"): CLINICAL,
    ("GET", "/visits/{appointment_id}/steps/{number}"): CLINICAL,
    ("POST", "/visits/{appointment_id}/steps/{number}"): CLINICAL,
    ("GET", "/live/{live_id}"): CLINICAL,
    ("GET", "/live/{live_id}/events"): CLINICAL,
    ("POST", "/live/{live_id}/pause"): CLINICAL,
    ("POST", "/live/{live_id}/resume"): CLINICAL,
    ("POST", "/live/{live_id}/stop"): CLINICAL,
    ("POST", "/live/{live_id}/intensity"): CLINICAL,
    ("GET", "/records/{record_id}"): CLINICAL,
    ("POST", "/records/{record_id}/feedback"): CLINICAL,
    # the JSON API
    ("GET", f"{API}/openapi.json"): PUBLIC,
    # online booking: the clinic, its services and free slots, for anyone
    ("GET", f"{API}/public/services"): PUBLIC,
    ("GET", f"{API}/public/slots"): PUBLIC,
    ("GET", f"{API}/docs"): PUBLIC,
    ("GET", f"{API}/me"): STAFF,
    ("GET", f"{API}/staff"): OWNER,
    ("POST", f"{API}/staff"): OWNER,
    ("PATCH", f"{API}/staff/{{user_id}}"): OWNER,
    ("DELETE", f"{API}/staff/{{user_id}}/sessions"): OWNER,
    ("GET", f"{API}/audit"): OWNER,
    ("GET", f"{API}/audit/verify"): OWNER,
    ("GET", f"{API}/appointments"): STAFF,
    ("POST", f"{API}/appointments"): STAFF,
    ("GET", f"{API}/appointments/{{appointment_id}}"): STAFF,
    ("PATCH", f"{API}/appointments/{{appointment_id}}"): STAFF,
    ("GET", f"{API}/rooms"): STAFF,
    ("GET", f"{API}/services"): STAFF,
    ("PATCH", f"{API}/rooms/{{room_id}}"): OWNER,
    ("PATCH", f"{API}/services/{{service_id}}"): OWNER,
    ("GET", f"{API}/clients"): STAFF,
    ("POST", f"{API}/clients"): STAFF,
    ("GET", f"{API}/clients/{{client_id}}"): STAFF,
    ("PATCH", f"{API}/clients/{{client_id}}"): STAFF,
    ("POST", f"{API}/clients/{{client_id}}/archive"): STAFF,
    ("DELETE", f"{API}/clients/{{client_id}}/archive"): STAFF,
    ("POST", f"{API}/clients/{{client_id}}/merge"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/erasure"): OWNER,
    ("POST", f"{API}/clients/{{client_id}}/erasure"): OWNER,
    ("GET", f"{API}/packages"): STAFF,
    ("POST", f"{API}/packages"): OWNER,
    ("GET", f"{API}/clients/{{client_id}}/packages"): STAFF,
    ("POST", f"{API}/clients/{{client_id}}/packages"): STAFF,
    ("POST", f"{API}/payments"): STAFF,
    ("GET", f"{API}/takings"): STAFF,
    ("GET", f"{API}/clients/{{client_id}}/skin-analyses"): CLINICAL,
    ("POST", f"{API}/clients/{{client_id}}/skin-analyses"): CLINICAL,
    ("POST", f"{API}/screening"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/screening"): CLINICAL,
    ("POST", f"{API}/clients/{{client_id}}/screening"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/gate"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/history"): CLINICAL,
    ("POST", f"{API}/clients/{{client_id}}/photos"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/photos"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/home-sessions"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/outcomes"): CLINICAL,
    ("POST", f"{API}/clients/{{client_id}}/flags/lift"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/plans"): CLINICAL,
    ("POST", f"{API}/clients/{{client_id}}/plans"): CLINICAL,
    ("GET", f"{API}/plans/{{plan_id}}"): CLINICAL,
    ("GET", f"{API}/protocols"): CLINICAL,
    ("POST", f"{API}/protocols"): OWNER,
    ("GET", f"{API}/sessions"): CLINICAL,
    ("POST", f"{API}/sessions"): CLINICAL,
    ("GET", f"{API}/sessions/{{live_id}}"): CLINICAL,
    ("GET", f"{API}/stations"): CLINICAL,
    ("POST", f"{API}/sessions/{{live_id}}/pause"): CLINICAL,
    ("POST", f"{API}/sessions/{{live_id}}/resume"): CLINICAL,
    ("POST", f"{API}/sessions/{{live_id}}/stop"): CLINICAL,
    ("POST", f"{API}/sessions/{{live_id}}/intensity"): CLINICAL,
    ("GET", f"{API}/appointments/{{appointment_id}}/steps"): CLINICAL,
    ("POST", f"{API}/appointments/{{appointment_id}}/steps/{{number}}"): CLINICAL,
    ("GET", f"{API}/records"): CLINICAL,
    ("GET", f"{API}/records/{{record_id}}"): CLINICAL,
    ("POST", f"{API}/records/{{record_id}}/feedback"): CLINICAL,
    # the client's record as FHIR: health data
    ("GET", f"{API}/fhir/Patient/{{client_id}}/$everything"): CLINICAL,
    ("GET", f"{API}/fhir/{{resource_type}}/{{resource_id}}"): CLINICAL,
    ("GET", f"{API}/clients/{{client_id}}/export"): CLINICAL,
    ("GET", f"{API}/exports/{{table}}.csv"): OWNER,
}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


_PATTERNS = [(method, _pattern(path), roles) for (method, path), roles in ROUTE_ROLES.items()]


def allowed_roles(method: str, path: str) -> frozenset[str]:
    """The roles allowed for a request's method and concrete path (``PUBLIC`` for everybody);
    empty when no rule matches, which refuses everybody."""
    if method == "HEAD":
        method = "GET"
    found = ROUTE_ROLES.get((method, path))
    if found is not None:
        return found
    for rule_method, pattern, roles in _PATTERNS:
        if rule_method == method and pattern.fullmatch(path):
            return roles
    return frozenset()
