"""A web worker's start-up, raced against others (used by test_worker_start).

    python worker_child.py DATABASE_URL DATA_DIR GATE_DIR NAME

Imports everything first, says it is ready (``GATE_DIR/NAME.ready``), waits for
``GATE_DIR/go`` so that every racer starts at once, then does what a web worker does before it
listens: migrate the database and agree on the signing key (`open_web_store`). Prints one JSON
line (the revision and the key's fingerprint) and exits 0, or prints the refusal and exits 2.
``MICROAMP_SECRET_KEY`` comes from the environment, as a worker's would.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from microamp.errors import InvalidValue
from microamp.store import current_revision
from microamp.store.signing_key import key_fingerprint
from microamp.web import WebSettings
from microamp.web.app import open_web_store
from microamp.web.settings import shared_secret_key


def main() -> int:
    url, data_dir, gate, name = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    settings = WebSettings(database_url=url, data_dir=data_dir)
    (gate / f"{name}.ready").touch()
    while not (gate / "go").exists():
        time.sleep(0.005)
    try:
        store = open_web_store(settings)
    except InvalidValue as exc:
        sys.stdout.write(json.dumps({"refused": str(exc)}) + "\n")
        return 2
    with store:
        revision = current_revision(store.engine)
        key = shared_secret_key(settings, store)
    sys.stdout.write(json.dumps({"revision": revision, "key": key_fingerprint(key)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
