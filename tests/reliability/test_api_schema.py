"""Schemathesis over the OpenAPI: every operation of /api/v1, fed data generated from its own
schema, answers without a server error and with a response its schema documents.

The app is served on 127.0.0.1 on a SQLite file filled with the demo clinic (staff, cleared
and refused clients, course plans, a past session), called with the owner's API token so every
operation is reached. Generation is derandomized and bounded, so a run is repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import select

from microamp.store.access import create_api_token
from microamp.store.models import User
from microamp.web import WebSettings, create_app
from microamp.web.app import open_web_store
from microamp.web.demo import seed_demo
from microamp.web.roles import API, PUBLIC, ROUTE_ROLES
from web.conftest import serve

EXAMPLES = 50


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, owner token) of the demo clinic, served until the module ends."""
    data_dir: Path = tmp_path_factory.mktemp("schema")
    web = WebSettings(
        database_url=f"sqlite:///{data_dir / 'demo.db'}", data_dir=data_dir,
        session_speed=400.0, secret_key="s" * 40,
    )  # fmt: skip
    store = open_web_store(web)
    try:
        seed_demo(store, web)
        with store.transaction() as db:
            owner = db.scalars(select(User).where(User.role == "owner")).first()
            assert owner is not None
            token = create_api_token(db, user_id=owner.id, name="schemathesis")[1]
        with serve(create_app(web, store=store)) as url:
            yield url, token
    finally:
        store.close()


@pytest.fixture(scope="module")
def api_schema(demo_api: tuple[str, str]) -> Any:
    url, _token = demo_api
    return schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")


def _operations() -> list[tuple[str, str]]:
    """Every API operation in the roles table (a test elsewhere holds it equal to the routes)."""
    return sorted(
        (method, path)
        for (method, path), roles in ROUTE_ROLES.items()
        if path.startswith(API) and roles != PUBLIC
    )


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_within_its_schema(
    api_schema: Any, demo_api: tuple[str, str], method: str, path: str
) -> None:
    _url, token = demo_api
    operation = api_schema[path][method]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy())
    def conforms(case: Any) -> None:
        # Domain rules a schema cannot state (a birth date in the past, every intake question
        # answered, a known plan template) refuse some schema-valid bodies with a 422 naming
        # the field: that refusal is the contract, so "valid data is accepted" is not checked.
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=[positive_data_acceptance],
        )

    conforms()
