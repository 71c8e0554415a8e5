"""Her progress photo kept through the clinic's own store function: on her client record,
audited as hers, and refused by the same rules (a date after today, too many pixels, not a
photo, an unknown view) with nothing kept."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from microamp.errors import InvalidValue
from microamp.store.access import AuditEntry
from microamp.store.db import Store
from microamp.store.home import HOME_PHOTO_NOTE, add_home_photo, create_home_account, home_photo
from microamp.store.home_models import HomeAccount
from microamp.store.outcomes import client_photos
from support.images import photo, png_bomb

DAY = date(2030, 3, 4)


def _account(store: Store) -> int:
    with store.transaction() as db:
        account = create_home_account(db, display_name="Ines", date_of_birth=date(1979, 2, 3),
                                      password_hash="x", plan_start=DAY, today=DAY)  # fmt: skip
        return account.id


def test_her_photo_is_kept_on_her_client_record_and_audited_as_hers(store: Store) -> None:
    account_id = _account(store)
    with store.transaction() as db:
        account = db.get(HomeAccount, account_id)
        assert account is not None
        entry = add_home_photo(db, account, photo=photo(), view="front", taken_on=DAY, today=DAY,
                               photo_use_consent=True)  # fmt: skip
        entry_id, client_id = entry.id, account.client_id
    with store.transaction() as db:
        account = db.get(HomeAccount, account_id)
        assert account is not None
        (kept,) = client_photos(db, client_id=client_id)
        assert (kept.id, kept.view, kept.notes) == (entry_id, "front", HOME_PHOTO_NOTE)
        assert kept.photo_use_consent is True and kept.photo_sha256
        stored = home_photo(db, account, entry_id=entry_id)
        assert stored is not None and stored.data[:2] == b"\xff\xd8"
        rows = db.scalars(select(AuditEntry).where(AuditEntry.client_id == client_id)).all()
        wrote = [r for r in rows if r.resource == f"client:{client_id}/progress"]
        read = [r for r in rows if r.resource == f"client:{client_id}/photo"]
        assert [r.actor for r in wrote] == [f"home:{account_id}"]
        assert wrote[0].action == "write" and wrote[0].detail["entry_id"] == entry_id
        assert [r.action for r in read] == ["read"]


@pytest.mark.parametrize(
    ("case", "field"),
    [("tomorrow", "taken_on"), ("bomb", "photo"), ("text", "photo"), ("sideways", "view")],
)
def test_her_photo_is_refused_by_the_clinics_rules_and_nothing_is_kept(
    store: Store, case: str, field: str
) -> None:
    account_id = _account(store)
    content = {"bomb": png_bomb(), "text": b"not a photo at all"}.get(case, photo())
    with store.transaction() as db:
        account = db.get(HomeAccount, account_id)
        assert account is not None
        with pytest.raises(InvalidValue) as refused:
            add_home_photo(
                db, account, photo=content, view="sideways" if case == "sideways" else "front",
                taken_on=DAY + timedelta(days=1 if case == "tomorrow" else 0), today=DAY,
                photo_use_consent=True,
            )  # fmt: skip
        assert refused.value.field == field
    with store.transaction() as db:
        account = db.get(HomeAccount, account_id)
        assert account is not None
        assert client_photos(db, client_id=account.client_id) == []
