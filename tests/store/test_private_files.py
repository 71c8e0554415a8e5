"""The data directory, the SQLite database and the photos are private whatever the umask:
directories 0700, files 0600, set when created; an existing directory is left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from microamp.store import StoreSettings, add_progress_entry, create_client, open_store
from microamp.store.files import private_dir, write_private
from support.images import photo


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o077], ids=["umask 000", "umask 022", "umask 077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def test_the_database_file_and_its_directory_are_private(tmp_path: Path, umask: int) -> None:
    data_dir = tmp_path / "new" / "data"
    database = data_dir / "clinic.db"
    os.chmod(tmp_path, 0o755)
    store = open_store(f"sqlite:///{database}", settings=StoreSettings(data_dir=data_dir),
                       upgrade=True)  # fmt: skip
    try:
        with store.transaction() as db:
            create_client(db, full_name="Ana Lima", date_of_birth=date(1990, 4, 12))
        assert mode(database) == 0o600
        assert mode(Path(f"{database}-wal")) == 0o600
        assert mode(data_dir) == 0o700 and mode(data_dir.parent) == 0o700
        assert mode(tmp_path) == 0o755  # it existed: it is the user's, left as it was
    finally:
        store.close()


def test_a_photo_is_kept_only_inside_the_private_database_file(tmp_path: Path, umask: int) -> None:
    data_dir = tmp_path / "data"
    settings = StoreSettings(data_dir=data_dir)
    database = data_dir / "clinic.db"
    store = open_store(f"sqlite:///{database}", settings=settings, upgrade=True)
    try:
        with store.transaction() as db:
            client = create_client(db, full_name="Ana Lima", date_of_birth=date(1990, 4, 12))
            entry = add_progress_entry(db, client_id=client.id, taken_on=date(2026, 1, 5),
                                       today=date(2026, 1, 5), photo=photo("JPEG", (64, 48)))  # fmt: skip
        assert entry.photo_path is None and entry.photo_sha256 is not None
        assert not settings.photos_dir.exists()
        assert {p.name for p in data_dir.iterdir()} <= {"clinic.db", "clinic.db-wal",
                                                        "clinic.db-shm", "audit.key"}  # fmt: skip
        assert all(mode(p) == 0o600 for p in data_dir.iterdir())
    finally:
        store.close()


def test_an_existing_directory_keeps_its_mode_and_a_rewrite_stays_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    private_dir(shared / "inner")
    assert mode(shared) == 0o755 and mode(shared / "inner") == 0o700
    target = shared / "inner" / "file"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o600
