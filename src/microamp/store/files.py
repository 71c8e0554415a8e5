"""Private files: the data directory, the SQLite database and the photos are the clinic's alone.

Directories microamp creates are 0700, files 0600, set explicitly after creation so that the
result does not depend on the process's umask (which can only take bits away, and is often
022: world-readable). A directory that already exists is left as it is (it may be the user's
own, e.g. the folder a ``sqlite:///`` URL names); ``microamp doctor`` reports one that is open.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "ensure_private_file",
    "is_private",
    "private_dir",
    "write_private",
]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a directory, each directory created on the way made 0700."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # made meanwhile by another process: leave its mode alone
            continue
        os.chmod(directory, PRIVATE_DIR_MODE)
    return path


def ensure_private_file(path: Path) -> Path:
    """``path`` created empty with mode 0600 if it does not exist yet (an existing file keeps
    its mode); its directory is made with `private_dir`."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` with mode 0600, whole or not at all: it goes to a temporary
    file beside it first and is renamed into place, so a crash leaves no half photo."""
    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def is_private(path: Path) -> bool:
    """Whether nobody but the owner may read, write or enter ``path``."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
