"""Mutation testing of the safety core, the devices and the session, one area at a time.

`run` gives each area of `[tool.mutmut.areas]` in pyproject.toml its own directory under
.mutation/ (links to src/ and tests/ and a pyproject.toml whose `[tool.mutmut]` names only that
area's modules and tests), runs mutmut there with one worker, then writes the summary.
`summary` reads mutmut's results in those directories, prints the score and the survivors by
file and writes .mutation/summary.json.

    python scripts/mutation.py run [AREA ...] [--keep | --retest] [--only GLOB ...] [--tests PATH ...]
    python scripts/mutation.py summary

A plain `run` starts each area afresh. `--retest` keeps the last run's mutants and kills and
tests again every mutant that was not killed (after tests were added, a quick honest rescore);
`--keep` reuses every result of the last run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".mutation"

# mutmut's exit codes of a mutant's test run, as mutmut itself reads them (mutmut.stats)
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    2: "interrupted",
    None: "not checked",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    37: "caught by type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
}
# a mutant that makes the tests hang or crash the interpreter is caught as surely as one that
# fails an assertion
DETECTED = {"killed", "timeout", "caught by type check", "segfault"}


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def areas(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = project["tool"]["mutmut"]["areas"]
    return found


def area_pyproject(
    project: dict[str, Any],
    area: str,
    only: list[str] | None = None,
    tests: list[str] | None = None,
) -> dict[str, Any]:
    """The project's pyproject.toml with `[tool.mutmut]` narrowed to one area (or to ``only``),
    judged by the area's tests (or by ``tests``)."""
    base = {k: v for k, v in project["tool"]["mutmut"].items() if k != "areas"}
    chosen = areas(project)[area]
    base["only_mutate"] = only or chosen["only_mutate"]
    base["pytest_add_cli_args_test_selection"] = tests or chosen["tests"]
    narrowed = dict(project)
    narrowed["tool"] = {**project["tool"], "mutmut": base}
    return narrowed


def prepare(
    project: dict[str, Any],
    area: str,
    *,
    reuse: str | None,
    only: list[str] | None,
    tests: list[str] | None = None,
) -> Path:
    work = OUT / area
    if reuse is None and (work / "mutants").exists():
        # mutmut never retests a cached survivor by itself, so a fresh run is the honest default
        shutil.rmtree(work / "mutants")
    if reuse == "retest":
        forget_undetected(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in ("src", "tests"):
        link = work / name
        if not link.is_symlink():
            link.symlink_to(Path("..") / ".." / name)
    (work / "pyproject.toml").write_bytes(
        tomli_w.dumps(area_pyproject(project, area, only, tests)).encode()
    )
    return work


def forget_undetected(work: Path) -> int:
    """Clear the verdict of every mutant not caught last time, so mutmut tests it again."""
    forgotten = 0
    for meta in (work / "mutants").glob("src/**/*.py.meta"):
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        for name, code in codes.items():
            if STATUS_BY_EXIT_CODE.get(code, "suspicious") not in DETECTED:
                codes[name] = None
                forgotten += 1
        meta.write_text(json.dumps(data, indent=4))
    return forgotten


def run_area(work: Path, mode: str) -> float:
    """Run mutmut with one worker in an area's directory; the wall time in seconds."""
    mutmut = Path(sys.executable).parent / "mutmut"
    # the CI hypothesis profile is derandomized: the same mutants die on every run
    env = {**os.environ, "CI": "1"}
    started = time.monotonic()
    done = subprocess.run([str(mutmut), "run", "--max-children", "1"], cwd=work, env=env)
    wall_s = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"mutmut failed in {work} (exit {done.returncode})")
    (work / "wall_s.json").write_text(json.dumps({"wall_s": round(wall_s, 1), "run": mode}))
    return wall_s


def mutant_statuses(work: Path) -> dict[str, dict[str, str]]:
    """Each mutated file of an area (path under src/) to its mutants' statuses."""
    by_file: dict[str, dict[str, str]] = {}
    mutants = work / "mutants"
    for meta in sorted(mutants.glob("src/**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        source = str(meta.relative_to(mutants)).removesuffix(".meta")
        by_file[source] = {
            name: STATUS_BY_EXIT_CODE.get(code, "suspicious") for name, code in codes.items()
        }
    return by_file


def area_summary(work: Path) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for source, statuses in mutant_statuses(work).items():
        counts: dict[str, int] = {}
        for status in statuses.values():
            counts[status] = counts.get(status, 0) + 1
        survivors = sorted(n for n, s in statuses.items() if s not in DETECTED)
        files[source] = {"total": len(statuses), "counts": counts, "survivors": survivors}
    total = sum(f["total"] for f in files.values())
    killed = sum(sum(n for s, n in f["counts"].items() if s in DETECTED) for f in files.values())
    wall = work / "wall_s.json"
    last_run = json.loads(wall.read_text()) if wall.exists() else {"wall_s": None, "run": None}
    return {
        "killed": killed,
        "total": total,
        "score": round(killed / total, 4) if total else None,
        "wall_s": last_run["wall_s"],
        "run": last_run["run"],
        "files": files,
    }


def summary(project: dict[str, Any]) -> dict[str, Any]:
    by_area = {
        area: area_summary(OUT / area)
        for area in areas(project)
        if (OUT / area / "mutants").is_dir()
    }
    killed = sum(a["killed"] for a in by_area.values())
    total = sum(a["total"] for a in by_area.values())
    return {
        "tool": "mutmut",
        "killed": killed,
        "total": total,
        "score": round(killed / total, 4) if total else None,
        "areas": by_area,
    }


def report(result: dict[str, Any]) -> str:
    lines = []
    for area, data in result["areas"].items():
        wall = f", {data['run']} run {data['wall_s']:.0f} s" if data["wall_s"] is not None else ""
        lines.append(f"{area}: killed {data['killed']} / {data['total']}{wall}")
        for source, f in data["files"].items():
            if f["survivors"]:
                lines.append(f"  {source}: {len(f['survivors'])} not killed")
                lines.extend(f"    {name}" for name in f["survivors"])
    score = f"{result['score']:.1%}" if result["score"] is not None else "n/a"
    lines.append(f"score: killed {result['killed']} / {result['total']} ({score})")
    return "\n".join(lines) + "\n"


def write_summary(project: dict[str, Any]) -> None:
    result = summary(project)
    OUT.mkdir(exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(report(result))
    sys.stdout.write(f"summary written to {(OUT / 'summary.json').relative_to(ROOT)}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="run mutmut per area, then summarise")
    run.add_argument("areas", nargs="*", help="areas to run (default: all)")
    reuse = run.add_mutually_exclusive_group()
    reuse.add_argument(
        "--keep", dest="reuse", action="store_const", const="keep", help="reuse every result"
    )
    reuse.add_argument(
        "--retest",
        dest="reuse",
        action="store_const",
        const="retest",
        help="reuse the kills, test every other mutant again",
    )
    run.add_argument(
        "--only",
        action="append",
        metavar="GLOB",
        help="mutate only these files of the area (e.g. src/microamp/devices/supervisor.py)",
    )
    run.add_argument(
        "--tests",
        action="append",
        metavar="PATH",
        help="judge the mutants by these tests only, instead of the area's (a module every "
        "device test calls, such as devices/enforce.py, by the tests of that module)",
    )
    verbs.add_parser("summary", help="summarise the last runs")
    args = parser.parse_args(argv)
    project = pyproject()
    if args.verb == "run":
        known = areas(project)
        for area in args.areas or list(known):
            if area not in known:
                raise SystemExit(f"unknown area {area!r}: one of {', '.join(known)}")
            work = prepare(project, area, reuse=args.reuse, only=args.only, tests=args.tests)
            run_area(work, args.reuse or "fresh")
    write_summary(project)


if __name__ == "__main__":
    main()
