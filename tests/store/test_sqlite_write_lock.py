"""A savepoint's write never fails because another connection wrote first.

On SQLite a transaction that a savepoint opens used to begin deferred: its first read pinned a WAL
snapshot, and when another connection (the home app's embedded station, say) committed before
that transaction's first write, the write failed at once with "database is locked", whatever the
busy timeout. Now the savepoint takes the write lock first, so the other writer waits its turn
and both writes land. The same flow runs on PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select

from microamp.store import Store
from microamp.store.models import Client

OTHER_WRITER_WAIT_S = 2.0


def _add_client(store: Store, name: str) -> None:
    with store.transaction() as session:
        session.add(Client(full_name=name, date_of_birth=date(1980, 1, 1)))


def test_a_savepoint_that_read_first_still_writes_after_another_connection_wrote(
    store: Store,
) -> None:
    other_done = threading.Event()
    failures: list[BaseException] = []

    def other_writer() -> None:
        try:
            _add_client(store, "Written beside")
        except BaseException as exc:  # the thread's failure is the test's
            failures.append(exc)
        finally:
            other_done.set()

    with store.session() as session:
        with session.begin_nested():
            before = session.scalar(select(func.count()).select_from(Client))
            writer = threading.Thread(target=other_writer)
            writer.start()
            # deferred, the other write lands now and the read snapshot goes stale; with the
            # write lock taken first, it waits until this transaction commits
            other_done.wait(OTHER_WRITER_WAIT_S)
            session.add(
                Client(full_name="Written in the savepoint", date_of_birth=date(1981, 2, 2))
            )
        session.commit()
    writer.join(30)

    assert not failures
    assert before == 0
    with store.session() as session:
        names = set(session.scalars(select(Client.full_name)))
    assert names == {"Written beside", "Written in the savepoint"}
