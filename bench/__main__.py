"""Run every benchmark, print one JSON document and write it to .bench/latest.json.

``python -m bench --quick`` runs every section at small sizes (seconds, not minutes) and writes
``.bench/quick.json``: the test suite runs it, so a change that breaks `make bench` breaks the
tests. Quick figures are not for quoting; the full run's are.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Each module has run(quick: bool) -> dict. Every one must be present: a missing section is a
# broken bench, not a skipped one.
MODULES = (
    "engine",
    "devices",
    "sessions",
    "records",
    "web",
    "signin",
    "audit",
    "uploads",
    "photos",
    "vision",
    "startup",
    "stations",
    "home",
    "mail",
    "cluster",
    "clinic",
    "slots",
    "fhir",
)
# the quick run's sections, a few at a time, the longest started first: most of a quick run
# waits (on the firmware emulator's start ramps, a routine played in a browser, servers
# starting, workers handing over), the machine's cores idle meanwhile. Its figures are not for
# quoting; the full run runs every section alone.
QUICK_AT_ONCE = 4
LONGEST_FIRST = ("clinic", "home", "devices", "cluster", "web", "audit")


def _section(name: str, quick: bool) -> dict[str, Any]:
    """The figures of section ``name``, its wall time said on stderr."""
    started = time.perf_counter()
    figures: dict[str, Any] = importlib.import_module(f"bench.{name}").run(quick=quick)
    print(f"bench {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return figures


def _quick() -> dict[str, dict[str, Any]]:
    order = [*LONGEST_FIRST, *(name for name in MODULES if name not in LONGEST_FIRST)]
    with ThreadPoolExecutor(max_workers=QUICK_AT_ONCE) as pool:
        running = {name: pool.submit(_section, name, True) for name in order}
        return {name: future.result() for name, future in running.items()}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every section at small sizes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    document: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": args.quick,
    }
    if args.quick:
        from bench.web import start_forked_servers

        # the app imported for the quick run's servers while the first sections seed their
        # databases
        start_forked_servers()
    results = _quick() if args.quick else {name: _section(name, False) for name in MODULES}
    for name in MODULES:  # the document in the sections' order, however they ran
        document.update(results[name])
    out = Path(".bench")
    out.mkdir(exist_ok=True)
    text = json.dumps(document, indent=2)
    name = "quick.json" if args.quick else "latest.json"
    (out / name).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
