"""The client field of the forms that choose one (the booking form, the session console): a
search by name, phone or email offering at most `CLIENT_CHOICES` clients as radios, with birth
date and email beside each, the one already chosen kept first; the template is
client_choices.html, whole in the form and swapped in alone as the search is typed.

The search never looks in the health fields (allergies, medications, notes): reception books,
and a search that reads no health data needs no audit row whoever types it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.client_records import SEARCH_CHARS, search_clients
from microamp.store.models import Client

__all__ = ["CLIENT_CHOICES", "ChosenQuery", "ClientQuery", "client_choices"]

# the clients a search offers; past that, the reader types more of it
CLIENT_CHOICES = 10

# the search as typed (``client_q``) and the client already chosen (``client_id``), as the
# routes that answer a search take them
ClientQuery = Annotated[str, Query(max_length=SEARCH_CHARS)]
ChosenQuery = Annotated[str, Query(max_length=12)]


def client_choices(db: Session, q: str, chosen: str = "") -> dict[str, Any]:
    """The context of client_choices.html: the clients whose name, phone or email holds ``q``,
    by name, at most `CLIENT_CHOICES` of them (``client_found``; ``client_more`` when there are
    more), with the client already ``chosen`` (an id as typed) kept first, found or not, so a
    new search (even one refused, in ``client_error``) does not lose her."""
    q = q.strip()
    context: dict[str, Any] = {"client_q": q, "chosen": chosen, "client_error": ""}
    found: list[Client] = []
    if q:
        try:
            found = search_clients(db, q=q, limit=CLIENT_CHOICES + 1)
        except InvalidValue as exc:
            context["client_error"] = f"Search: {exc.rule}"
    context["client_more"] = len(found) > CLIENT_CHOICES
    found = found[:CLIENT_CHOICES]
    context["client_found"] = len(found)  # by the search alone
    if chosen.isascii() and chosen.isdigit() and all(c.id != int(chosen) for c in found):
        kept = db.get(Client, int(chosen))
        if kept is not None and kept.archived_at is None:
            found.insert(0, kept)
    context["client_choices"] = [
        {"id": c.id, "name": c.full_name, "born": c.date_of_birth, "email": c.email or ""}
        for c in found
    ]
    return context
