"""SOUP: the third-party software microamp runs on, from the installed distributions' metadata.

Every distribution the installed ``microamp`` requires, transitively (its base requirements,
not the optional extras), with its version, licence and home page as the metadata states them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = ["SoupItem", "soup"]

_HOME_LABELS = ("homepage", "home", "source", "source code", "repository", "documentation")
# a licence field holding the whole licence text is cut to its first line, this long at most
_LICENCE_CHARS = 80


@dataclass(frozen=True, slots=True)
class SoupItem:
    name: str
    version: str
    licence: str
    homepage: str
    required_by: str

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "licence": self.licence,
            "homepage": self.homepage,
            "required_by": self.required_by,
        }


def soup(root: str = "microamp") -> list[SoupItem]:
    """Every installed distribution ``root`` depends on, transitively, sorted by name."""
    found: dict[str, SoupItem] = {}
    # (name, the extras asked of it, who asked); an extra asked later is walked again
    queue: list[tuple[str, frozenset[str], str]] = [(root, frozenset(), "")]
    walked: set[tuple[str, frozenset[str]]] = set()
    while queue:
        name, extras, parent = queue.pop(0)
        key = canonicalize_name(name)
        if (key, extras) in walked:
            continue
        walked.add((key, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if key != canonicalize_name(root) and key not in found:
            found[key] = _item(dist, parent)
        for child, child_extras in _requirements(dist, extras):
            queue.append((child, child_extras, dist.metadata["Name"]))
    return sorted(found.values(), key=lambda item: item.name.lower())


def _requirements(
    dist: metadata.Distribution, extras: frozenset[str]
) -> list[tuple[str, frozenset[str]]]:
    """What ``dist`` requires here with ``extras`` (other optional extras left out)."""
    names = []
    for line in dist.requires or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is not None:
            try:
                wanted = any(requirement.marker.evaluate({"extra": e}) for e in {"", *extras})
            except UndefinedEnvironmentName:
                wanted = False
            if not wanted:
                continue
        names.append((requirement.name, frozenset(requirement.extras)))
    return names


def _item(dist: metadata.Distribution, parent: str) -> SoupItem:
    meta = dist.metadata
    return SoupItem(
        name=meta["Name"],
        version=dist.version,
        licence=_licence(dist),
        homepage=_homepage(dist),
        required_by=parent,
    )


def _licence(dist: metadata.Distribution) -> str:
    meta = dist.metadata.json
    expression = meta.get("license_expression")
    if expression:
        return str(expression)
    classifiers = [
        c.split("::")[-1].strip()
        for c in _listed(meta.get("classifier"))
        if c.startswith("License ::") and c.strip() != "License :: OSI Approved"
    ]
    if classifiers:
        return "; ".join(classifiers)
    text = str(meta.get("license") or "").strip()
    if text and text.upper() != "UNKNOWN":
        return text.splitlines()[0][:_LICENCE_CHARS]
    return "not stated in the metadata"


def _homepage(dist: metadata.Distribution) -> str:
    meta = dist.metadata.json
    home = str(meta.get("home_page") or "")
    if home and home.upper() != "UNKNOWN":
        return str(home)
    urls: dict[str, str] = {}
    for entry in _listed(meta.get("project_url")):
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in _HOME_LABELS:
        if label in urls:
            return urls[label]
    return next(iter(urls.values()), "")


def _listed(value: object) -> list[str]:
    """A metadata field that may appear several times, as a list of strings."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value else []
