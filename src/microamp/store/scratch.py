"""Throwaway PostgreSQL schemas, for tests and benchmarks that must never touch real tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["scratch_schema"]


@contextmanager
def scratch_schema(base_url: str, *, prefix: str = "scratch") -> Iterator[str]:
    """Create a fresh schema on ``base_url``'s database, yield a URL whose search_path is that
    schema, and drop it (with everything in it) afterwards. Parallel and repeated runs never see
    each other's rows."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        scoped = url.set(drivername="postgresql+psycopg").update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield scoped.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
