"""Consent texts, versioned as data, and the check of a typed signature."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from microamp.errors import InvalidValue

__all__ = ["ConsentText", "consent_text", "current_consent_version", "check_signature"]

_CONSENT_PATH = Path(__file__).with_name("data") / "consent.toml"


@dataclass(frozen=True, slots=True)
class ConsentText:
    """One version of the consent wording."""

    version: str
    title: str
    text: str


@cache
def _document() -> dict[str, Any]:
    return tomllib.loads(_CONSENT_PATH.read_text(encoding="utf-8"))


def current_consent_version() -> str:
    """The version clients sign now."""
    return str(_document()["current"])


def consent_text(version: str | None = None) -> ConsentText:
    """The wording of ``version`` (the current one by default); `InvalidValue` if unknown."""
    version = version or current_consent_version()
    versions: dict[str, dict[str, str]] = _document()["versions"]
    if version not in versions:
        raise InvalidValue("consent_version", version, f"known versions: {', '.join(versions)}")
    entry = versions[version]
    return ConsentText(version=version, title=entry["title"], text=entry["text"].strip())


def check_signature(typed_signature: str, *, full_name: str) -> str:
    """A typed signature, trimmed; it must be the client's full name (case and spacing aside)."""
    signed = " ".join(typed_signature.split())
    if not signed:
        raise InvalidValue("typed_signature", typed_signature, "the client must type their name")
    if signed.casefold() != " ".join(full_name.split()).casefold():
        raise InvalidValue(
            "typed_signature", typed_signature, f"must be the client's full name, {full_name!r}"
        )
    return signed
