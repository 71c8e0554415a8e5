"""The load generator of `bench.cluster`, in a process of its own: ``clients`` concurrent page
clients (httpx, asyncio) reading the API's pages for ``seconds``; one JSON line on stdout.

    python -m bench.load_client URL TOKEN SECONDS CLIENTS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

PAGES = ("/api/v1/sessions", "/api/v1/stations", "/signin")


async def _client(base: str, token: str, until: float, counts: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        n = 0
        while time.monotonic() < until:
            try:
                answer = await client.get(PAGES[n % len(PAGES)])
                counts["ok" if answer.status_code == 200 else "failed"] += 1
            except httpx.HTTPError:
                counts["failed"] += 1
            n += 1


async def _load(base: str, token: str, seconds: float, clients: int) -> dict[str, float]:
    counts = {"ok": 0, "failed": 0}
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(_client(base, token, until, counts) for _ in range(clients)))
    wall = time.monotonic() - started
    return {"pages": counts["ok"], "failed": counts["failed"], "wall_s": wall,
            "pages_per_s": counts["ok"] / wall}  # fmt: skip


def main() -> int:
    base, token, seconds, clients = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    sys.stdout.write(json.dumps(asyncio.run(_load(base, token, seconds, clients))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
