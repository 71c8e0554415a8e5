"""Server-rendered pages, one router per area."""

from fastapi import APIRouter

from microamp.web.pages import (
    account,
    audit,
    auth,
    book,
    book_week,
    care,
    client_erasure,
    client_records,
    clients,
    clinic_items,
    clinic_settings,
    console,
    dashboard,
    exports,
    health,
    mail,
    outcomes,
    packages,
    previsit,
    protocols,
    records,
    setup,
    staff,
    visit,
    visit_steps,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        auth,
        dashboard,
        book_week,
        book,
        clients,
        client_erasure,
        client_records,
        packages,
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
        mail,
        clinic_settings,
        clinic_items,
        exports,
        previsit,
        visit,
        visit_steps,
    )
)

__all__ = ["ROUTERS"]
