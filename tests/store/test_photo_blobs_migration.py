"""Revision 0010 copies the photos an older microamp kept on this host's disk into the
database, each checked against its digest; a photo whose file is elsewhere is still read from
its file where that host has it; a downgrade that would lose a photo is refused."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from microamp.store import StoreSettings, add_progress_entry, open_store
from microamp.store.crud import create_client
from microamp.store.db import make_engine
from microamp.store.migrate import migrate_to
from microamp.store.models import ProgressEntry
from microamp.store.photo_blobs import PhotoBlob, entry_photo
from support.images import photo


def _migrate(database_url: str, settings: StoreSettings, revision: str, *, down: bool) -> None:
    engine = make_engine(database_url, settings)
    try:
        # as `microamp db upgrade` migrates: one transaction, under the lock, keys checked
        migrate_to(engine, revision, down=down)
    finally:
        engine.dispose()


def _old_photo(folder: Path, data: bytes) -> tuple[str, str]:
    """A photo kept as microamp 0008 kept it: a file named by its digest. (path, digest)"""
    digest = hashlib.sha256(data).hexdigest()
    path = folder / f"{digest}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path), digest


def test_photos_on_disk_are_copied_in_and_the_rest_still_found_where_they_are(
    database_url: str, settings: StoreSettings, tmp_path: Path
) -> None:
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.transaction() as db:
            client_id = create_client(db, full_name="Ada Photo", date_of_birth=date(1980, 1, 2)).id
    _migrate(database_url, settings, "0008", down=True)
    here, here_digest = _old_photo(tmp_path / "photos" / "1", photo("JPEG", (64, 48)))
    gone, gone_digest = _old_photo(tmp_path / "elsewhere", photo("JPEG", (32, 24)))
    Path(gone).rename(tmp_path / "aside.jpg")  # written on another host: not here to copy
    changed, changed_digest = _old_photo(tmp_path / "photos" / "1", photo("JPEG", (40, 30)))
    Path(changed).write_bytes(photo("JPEG", (41, 30)))  # no longer the photo that was kept
    engine = make_engine(database_url, settings)
    try:
        with engine.begin() as connection:
            for path, digest in (
                (here, here_digest),
                (gone, gone_digest),
                (changed, changed_digest),
            ):
                connection.execute(
                    sa.insert(ProgressEntry.__table__).values(
                        client_id=client_id, taken_on=date(2026, 1, 5), photo_path=path,
                        photo_sha256=digest, ratings={}, notes="", lighting_notes="",
                        photo_use_consent=False, recorded_at=sa.func.current_timestamp(),
                    )
                )  # fmt: skip
    finally:
        engine.dispose()
    _migrate(database_url, settings, "head", down=False)
    with open_store(database_url, settings=settings) as store, store.session() as db:
        assert list(db.scalars(sa.select(PhotoBlob.sha256))) == [here_digest]
        entries = {e.photo_sha256: e for e in db.scalars(sa.select(ProgressEntry))}
        copied = entry_photo(db, entries[here_digest])
        assert copied is not None and hashlib.sha256(copied.data).hexdigest() == here_digest
        Path(here).unlink()  # the copy is what is read now
        assert entry_photo(db, entries[here_digest]) == copied
        assert entry_photo(db, entries[changed_digest]) is None
        assert entry_photo(db, entries[gone_digest]) is None
        (tmp_path / "aside.jpg").rename(gone)  # on the host that has it, it is found
        found = entry_photo(db, entries[gone_digest])
        assert found is not None and hashlib.sha256(found.data).hexdigest() == gone_digest
        assert all(e.has_photo for e in entries.values())


def test_a_downgrade_that_would_lose_a_photo_is_refused(
    database_url: str, settings: StoreSettings
) -> None:
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.transaction() as db:
            client_id = create_client(db, full_name="Ada Photo", date_of_birth=date(1980, 1, 2)).id
            add_progress_entry(db, client_id=client_id, taken_on=date(2026, 1, 5),
                               today=date(2026, 1, 5), photo=photo("JPEG", (64, 48)))  # fmt: skip
    with pytest.raises(RuntimeError, match="1 photos are kept only in the database"):
        _migrate(database_url, settings, "0008", down=True)
    with open_store(database_url, settings=settings) as store, store.session() as db:
        assert len(list(db.scalars(sa.select(PhotoBlob.sha256)))) == 1
