"""Revision 0008 keeps each measured photo's landmarks in a column of their own, out of its
measures: a downgrade puts them back inside the measures, an upgrade takes them out again,
on both databases, the measures themselves untouched."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from microamp.store import StoreSettings, open_store
from microamp.store.crud import create_client
from microamp.store.db import make_engine
from microamp.store.migrate import migrate_to
from microamp.store.models import ProgressEntry

LANDMARKS = [[100.5, 200.25], [101.0, 201.5]]
MEASUREMENT = {"view": "front", "measures": {"lower_face_width_mm": 101.2}, "comparable": True}


def _migrate(database_url: str, settings: StoreSettings, revision: str, *, down: bool) -> None:
    engine = make_engine(database_url, settings)
    try:
        # as `microamp db upgrade` migrates: one transaction, under the lock, keys checked
        migrate_to(engine, revision, down=down)
    finally:
        engine.dispose()


def _stored_measurement(database_url: str, settings: StoreSettings) -> object:
    engine = make_engine(database_url, settings)
    try:
        with engine.connect() as connection:
            table = sa.table("progress_entries", sa.column("measurement", sa.JSON()))
            return connection.execute(sa.select(table.c.measurement)).scalar_one()
    finally:
        engine.dispose()


def test_landmarks_go_back_into_the_measures_on_downgrade_and_out_again(
    database_url: str, settings: StoreSettings
) -> None:
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.transaction() as db:
            client = create_client(db, full_name="Ada Photo", date_of_birth=date(1980, 1, 2))
            db.add(ProgressEntry(client_id=client.id, taken_on=date(2026, 1, 5), view="front",
                                 measurement=MEASUREMENT, landmarks_px=LANDMARKS))  # fmt: skip
    _migrate(database_url, settings, "0007", down=True)
    assert _stored_measurement(database_url, settings) == MEASUREMENT | {"landmarks_px": LANDMARKS}
    _migrate(database_url, settings, "head", down=False)
    assert _stored_measurement(database_url, settings) == MEASUREMENT
    with open_store(database_url, settings=settings) as store, store.session() as db:
        entry = db.scalars(sa.select(ProgressEntry)).one()
        assert entry.landmarks_px == LANDMARKS
        assert entry.measurement == MEASUREMENT
