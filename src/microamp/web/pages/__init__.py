"""Server-rendered pages, one router per area."""

from fastapi import APIRouter

from microamp.web.pages import (
    account,
    audit,
    auth,
    book,
    care,
    clients,
    console,
    dashboard,
    health,
    outcomes,
    protocols,
    records,
    setup,
    staff,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        auth,
        dashboard,
        book,
        clients,
        health,
        outcomes,
        protocols,
        console,
        records,
        care,
        account,
        setup,
        staff,
        audit,
    )
)

__all__ = ["ROUTERS"]
