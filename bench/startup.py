"""Start-up: wall time of `microamp --help` (heavy libraries are imported only when used)."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from typing import Any

RUNS = 7


def _best_wall_s(args: list[str], runs: int) -> float:
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> dict[str, Any]:
    runs = 1 if quick else RUNS
    help_s = _best_wall_s([sys.executable, "-m", "microamp", "--help"], runs)
    bare_s = _best_wall_s([sys.executable, "-c", "pass"], runs)
    return {
        "startup": {
            "microamp_help_wall_s": help_s,
            "bare_python_wall_s": bare_s,
            "microamp_own_s": help_s - bare_s,
            "runs": runs,
        }
    }
