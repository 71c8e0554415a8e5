"""Run every benchmark, print one JSON document and write it to .bench/latest.json."""

from __future__ import annotations

import importlib
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

# Each module has run() -> dict; absent modules are skipped (the part they measure is absent).
MODULES = ("engine", "devices", "sessions", "records", "web", "startup")


def main() -> int:
    document: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for name in MODULES:
        if importlib.util.find_spec(f"bench.{name}") is None:
            continue
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        document.update(module.run())
        print(f"bench {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    out = Path(".bench")
    out.mkdir(exist_ok=True)
    text = json.dumps(document, indent=2)
    (out / "latest.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
