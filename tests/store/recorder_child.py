"""A process that records a session and then waits to be killed (used by test_recording).

    python recorder_child.py DATABASE_URL DATA_DIR EVENTS

Prints ``ready <session id>`` once EVENTS events and their telemetry are written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from microamp.store import SessionRecorder, StoreSettings, open_store


def main() -> None:
    url, data_dir, events = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    settings = StoreSettings(data_dir=data_dir, database_url=None, telemetry_flush_s=1.0)
    store = open_store(url, settings=settings)
    recorder = SessionRecorder.start(
        store, protocol_name="lift", device_url="sim://?load=gel", protocol_version="1"
    )
    for n in range(events):
        t_s = n * 0.5
        recorder({"kind": "step_started", "t_s": t_s, "zone": "cheeks", "n": n})
        for k in range(50):
            recorder(
                {
                    "t_s": t_s + k * 0.01,
                    "commanded_ua": 200.0,
                    "delivered_ua": 198.0,
                    "peak_ua": 201.0,
                    "voltage_v": 2.0,
                    "impedance_ohm": 10_000.0,
                    "flags": [],
                }
            )
    sys.stdout.write(f"ready {recorder.session_id}\n")
    sys.stdout.flush()
    while True:  # the test kills us here, mid-session
        time.sleep(1)


if __name__ == "__main__":
    main()
