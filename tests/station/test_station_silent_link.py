"""A station whose link to PostgreSQL goes silent mid-session (no reset, nothing carried):
its output reaches zero within the command expiry, what it could not write is journaled
within the stated bound, and the journal is handed over when the link carries again."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from microamp.station import StartRequest, Station, StoreSessions
from microamp.station.live import LiveSession
from microamp.store import StoreSettings, open_store
from microamp.store.journal import Journal, journal_path
from station.test_station_journal import DEVICE, ROOM, stored, until
from station.test_station_loop import cleared_client
from support.link import Link


@pytest.mark.postgres
def test_a_silent_link_stops_output_and_journals_within_the_bound(
    pg_url: str, tmp_path: Path
) -> None:
    url = make_url(pg_url)
    with (
        open_store(pg_url, settings=StoreSettings(data_dir=tmp_path / "web"), upgrade=True) as web,
        Link((url.host or "127.0.0.1", url.port or 5432)) as link,
    ):
        proxied = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        settings = StoreSettings(data_dir=tmp_path / "station")
        near = open_store(proxied, settings=settings)
        # a held connection is cut after station_hold_s, a new one given up after the connect
        # timeout: the runner's one blocked write, then it journals and stops
        bound_s = settings.station_hold_s + settings.db_connect_timeout_s + 1.5  # + ramp-down
        station = Station(near, name=ROOM, device_url=DEVICE, speed=4.0)
        station.start()
        try:
            client_id, practitioner_id = cleared_client(web)
            request = StartRequest(client_id, "Ana Lima", "pro-express", DEVICE, 1.0,
                                   practitioner_id)  # fmt: skip
            remote = StoreSessions(web).start(request, on=date.today())
            live: LiveSession = until("the session", lambda: station.sessions.get(remote.id))
            until("output", lambda: live.device.output_on, 30)
            time.sleep(1.0)
            link.silence()
            cut_at = time.monotonic()
            until("zero output", lambda: not live.device.output_on, 3 * bound_s)
            zero_after_s = time.monotonic() - cut_at
            assert live.wait(60), "the session hung on the silent link"
            ended_after_s = time.monotonic() - cut_at
            journal = Journal(journal_path(near, live.record_id))
            assert journal.pending, "nothing was journaled"
            link.restore()
            until("the hand-over", lambda: not journal.pending, 60)
            events, _chunks, status = stored(web, live.record_id)
        finally:
            link.restore()
            station.stop()
            near.close()
    assert zero_after_s <= bound_s, zero_after_s
    # its end written to the journal after at most one more connect timeout, and some slack
    assert ended_after_s <= 3 * bound_s, ended_after_s
    assert status == "stopped"
    assert [seq for seq, _kind, _t in events] == list(range(len(events)))
