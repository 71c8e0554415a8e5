"""The protocol library shipped with microamp, and loading a protocol by name or from a file."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from microamp.errors import InvalidValue
from microamp.protocols.schema import Protocol
from microamp.protocols.validate import parse_protocol
from microamp.safety.limits import LimitProfile

__all__ = ["LIBRARY_DIR", "library_names", "load_protocol", "read_protocol_file"]

LIBRARY_DIR = Path(__file__).with_name("library")


def library_names() -> list[str]:
    """The names of the library's protocols, sorted."""
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.toml"))


def read_protocol_file(path: Path) -> dict[str, Any]:
    """Parsed TOML of a protocol file; raises `InvalidValue` if unreadable or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidValue("protocol", str(path), f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidValue("protocol", str(path), "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue("protocol", str(path), f"is not valid TOML: {exc}") from None


def _resolve(ref: str | Path) -> Path:
    if isinstance(ref, Path) or ref.endswith(".toml") or "/" in ref:
        return Path(ref)
    path = LIBRARY_DIR / f"{ref}.toml"
    if path.is_file():
        return path
    names = library_names()
    close = difflib.get_close_matches(ref, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"library: {', '.join(names)}"
    raise InvalidValue("protocol", ref, f"no library protocol or .toml file by that name; {hint}")


def load_protocol(ref: str | Path, profile: LimitProfile | None = None) -> Protocol:
    """A protocol by library name or file path, checked against anatomy and (if given) ``profile``.

    Raises `InvalidValue` for an unknown name or unreadable file, `InvalidValues` listing every
    problem in the file.
    """
    return parse_protocol(read_protocol_file(_resolve(ref)), profile)
