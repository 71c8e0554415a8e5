"""The JSON API under /api/v1: one router per resource, token auth, roles from the table."""

from fastapi import APIRouter

from microamp.web.api import (
    account,
    appointments,
    audit,
    book,
    client_erasure,
    clients,
    exports,
    fhir,
    home_sessions,
    packages,
    plans,
    progress,
    protocols,
    public,
    records,
    screening,
    sessions,
    skin,
    staff,
    visit_steps,
)

PREFIX = "/api/v1"
ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        account,
        appointments,
        audit,
        book,
        clients,
        client_erasure,
        exports,
        fhir,
        packages,
        progress,
        home_sessions,
        screening,
        plans,
        protocols,
        public,
        sessions,
        records,
        skin,
        staff,
        visit_steps,
    )
)

__all__ = ["PREFIX", "ROUTERS"]
