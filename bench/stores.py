"""The SQLite files the sections open, migrated once per quick run.

Every section opens stores of its own, and migrating an empty database to head takes about a
second (Alembic loads every revision, SQLite copies the tables its batch mode alters). The
quick run opens some twenty; so there a new SQLite file is a copy of one migrated at the first
call, and the section's own ``open_store(..., upgrade=True)`` then finds it at head. The full
run migrates each file itself, as it always did.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path


def sqlite_url(path: Path, quick: bool) -> str:
    """The URL of a SQLite file at ``path``; ``quick``: already migrated to head."""
    if quick:
        shutil.copyfile(_migrated(), path)
    return f"sqlite:///{path}"


@functools.cache
def _migrated() -> Path:
    """An empty database at head, in a directory removed when the run ends."""
    from microamp.store import StoreSettings, open_store

    directory = Path(tempfile.mkdtemp(prefix="bench-migrated-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "migrated.db"
    settings = StoreSettings(data_dir=directory, database_url=None)
    # closed before copying: the last connection's close folds the WAL into the file
    open_store(f"sqlite:///{path}", settings=settings, upgrade=True).close()
    if path.with_name(path.name + "-wal").exists():
        raise RuntimeError("the migrated template kept a WAL: its copies would miss tables")
    return path
