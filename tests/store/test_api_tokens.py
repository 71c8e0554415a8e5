"""API tokens are found by one indexed lookup of their SHA-256, never by a scan or a slow hash:
a token read costs the same with one token on file or thousands."""

from __future__ import annotations

from sqlalchemy import inspect, text

from microamp.store.access import (
    create_api_token,
    find_api_token,
    hash_token,
    revoke_api_token,
)
from microamp.store.crud import create_user
from microamp.store.db import Store


def _owner(store: Store) -> int:
    with store.transaction() as db:
        user = create_user(db, email="o@tokens.example", display_name="O", role="owner",
                           password_hash="x")  # fmt: skip
        return user.id


def test_a_token_is_found_by_its_hash_and_a_revoked_or_unknown_one_is_not(store: Store) -> None:
    user_id = _owner(store)
    with store.transaction() as db:
        row, token = create_api_token(db, user_id=user_id, name="booking")
        _, other = create_api_token(db, user_id=user_id, name="other")
        assert row.token_hash == hash_token(token) and token not in row.token_hash
    with store.session() as db:
        found = find_api_token(db, token)
        assert found is not None and found.name == "booking"
        assert find_api_token(db, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert find_api_token(db, token.removeprefix("mat_")) is None
        assert revoke_api_token(db, user_id=user_id, token_id=row.id) is not None
        db.commit()
        assert find_api_token(db, token) is None
        assert find_api_token(db, other) is not None


def test_the_token_hash_column_carries_a_unique_index(store: Store) -> None:
    with store.session() as db:
        inspector = inspect(db.connection())
        uniques = [u["column_names"] for u in inspector.get_unique_constraints("api_tokens")]
        indexed = [i["column_names"] for i in inspector.get_indexes("api_tokens") if i["unique"]]
        assert ["token_hash"] in uniques + indexed
        if db.bind is not None and db.bind.dialect.name == "sqlite":
            plan = db.execute(
                text("EXPLAIN QUERY PLAN SELECT id FROM api_tokens WHERE token_hash = :h"),
                {"h": "0" * 64},
            ).all()
            assert any("USING INDEX" in str(step) or "USING COVERING INDEX" in str(step)
                       for step in plan), plan  # fmt: skip
