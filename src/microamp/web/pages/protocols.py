"""The protocol library: each protocol's face map, waveform preview and steps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import Response

from microamp.errors import InvalidValue, NotFound
from microamp.protocols import PlannedStep, Protocol, library_names, load_protocol, plan_protocol
from microamp.viz.facemap import facemap_svg
from microamp.web.charts import waveform_svg
from microamp.web.deps import CsrfChecked, PageUser
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])


@dataclass(frozen=True, slots=True)
class Entry:
    protocol: Protocol
    steps: tuple[PlannedStep, ...]
    facemap: str
    waves: tuple[tuple[str, str], ...]  # (which steps, svg) per distinct waveform

    @property
    def duration_min(self) -> float:
        return sum(s.duration_s for s in self.steps) / 60


@cache
def library_entry(name: str) -> Entry:
    """A library protocol, planned and drawn once per process (the library is read-only)."""
    try:
        protocol = load_protocol(name)
    except InvalidValue:
        raise NotFound(f"no protocol named {name!r}") from None
    steps = tuple(plan_protocol(protocol))
    distinct: dict[str, list[int]] = {}
    by_key = {}
    for step in steps:
        key = repr(step.waveform)
        distinct.setdefault(key, []).append(step.index + 1)
        by_key[key] = step.waveform
    waves = tuple(
        (_which(numbers, len(steps)), waveform_svg(by_key[key]))
        for key, numbers in distinct.items()
    )
    return Entry(
        protocol,
        steps,
        facemap_svg(steps, show_muscles=False, drawing_id=f"map-{protocol.name}"),
        waves,
    )


def _which(numbers: list[int], total: int) -> str:
    if len(numbers) == total:
        return "every step"
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    return f"{len(numbers)} steps ({numbers[0]}, {numbers[1]}…)"


@router.get("/protocols")
def protocols(request: Request, user: PageUser) -> Response:
    entries = [library_entry(name) for name in library_names()]
    return page(request, "protocols.html", user, title="Protocols", entries=entries)


@router.get("/protocols/{name}")
def protocol(request: Request, user: PageUser, name: str) -> Response:
    entry = library_entry(name)
    return page(request, "protocol.html", user, title=entry.protocol.title, entry=entry)
