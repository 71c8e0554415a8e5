"""A process that races for one device lease (used by test_leases).

    python lease_child.py DATABASE_URL DATA_DIR START_AT

Waits until the wall clock reads START_AT (seconds since the epoch), so every racer asks at
once, then prints ``won`` or ``busy`` and exits.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from microamp.store import StoreSettings, open_store
from microamp.store.base import utc_now
from microamp.store.leases import Busy, acquire, holder_token


def main() -> None:
    url, data_dir, start_at = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    settings = StoreSettings(data_dir=data_dir, database_url=None)
    with open_store(url, settings=settings, recover=False) as store:
        with store.engine.connect():  # connect before the start, so the race is the lease
            pass
        time.sleep(max(0.0, start_at - time.time()))
        with store.transaction() as db:
            got = acquire(db, device="serial:///dev/ttyACM0", holder=holder_token(), ttl_s=60,
                          now=utc_now())  # fmt: skip
    sys.stdout.write("busy\n" if isinstance(got, Busy) else "won\n")


if __name__ == "__main__":
    main()
