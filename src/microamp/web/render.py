"""Rendering pages: the Jinja2 environment, its filters, and `page` for a full response."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from microamp.store.models import User
from microamp.web.cookies import SESSION_KEY
from microamp.web.roles import CLINICAL

__all__ = ["NOTICE", "make_templates", "page"]

TEMPLATES_DIR = Path(__file__).with_name("templates")
NOTICE = (
    "microamp is not a cleared medical device. Evidence for cosmetic benefit is limited; "
    "nothing here is medical advice."
)
OUTCOME_LABELS = {
    "cleared": "Cleared",
    "caution": "Caution",
    "deferred": "Deferred",
    "clearance_required": "Physician clearance required",
    "contraindicated": "Contraindicated",
}


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y, %H:%M UTC")
    return value.strftime("%a %d %b %Y")


def _number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _money(minor: int | None, currency: str | None = None) -> str:
    """``12050`` and ``"EUR"`` as ``"120.50 EUR"``."""
    if minor is None:
        return "—"
    return f"{minor / 100:,.2f} {currency or ''}".strip()


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _code_spans(text: str) -> Markup:
    """Text with its Markdown-style `code` spans as <code>, everything else escaped."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters["day"] = _day
    env.filters["num"] = _number
    env.filters["money"] = _money
    env.filters["code_spans"] = _code_spans
    env.globals["NOTICE"] = NOTICE
    env.globals["OUTCOME_LABELS"] = OUTCOME_LABELS
    return templates


def csrf_token(request: Request) -> str:
    token: str = request.scope[SESSION_KEY]["csrf"]
    return token


def page(
    request: Request,
    name: str,
    user: User | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page rendered with the layout's context: the user, the CSRF token, the active nav."""
    templates: Jinja2Templates = request.app.state.templates
    context.update(
        user=user,
        clinical=user is not None and user.role in CLINICAL,
        csrf_token=csrf_token(request),
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)
