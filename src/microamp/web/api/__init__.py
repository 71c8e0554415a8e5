"""The JSON API under /api/v1: one router per resource, token auth, roles from the table."""

from fastapi import APIRouter

from microamp.web.api import (
    account,
    appointments,
    audit,
    book,
    clients,
    plans,
    progress,
    protocols,
    records,
    screening,
    sessions,
    staff,
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
        progress,
        screening,
        plans,
        protocols,
        sessions,
        records,
        staff,
    )
)

__all__ = ["PREFIX", "ROUTERS"]
