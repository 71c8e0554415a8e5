"""Alembic environment: always run programmatically, on a connection handed in by
`microamp.store.migrate` (there is no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from microamp.store import (  # noqa: F401  (registers every table)
    access,
    clinic_setup,
    home_models,
    models,
    photo_blobs,
    session_models,
    shared_models,
    signing_key,
    staff,
    staff_sessions,
    station_models,
    throttle,
)
from microamp.store.base import Base
from microamp.store.migrate import modelled


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through microamp.store.migrate (microamp db upgrade)")
_run(connection)
