"""Server-rendered pages, one router per area."""

from fastapi import APIRouter

from microamp.web.pages import (
    account,
    auth,
    care,
    clients,
    console,
    dashboard,
    health,
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
        clients,
        health,
        protocols,
        console,
        records,
        care,
        account,
        setup,
        staff,
    )
)

__all__ = ["ROUTERS"]
