"""An import's scratch folder in the temporary directory, removed when the import ends however it ends.

A folder is locked (flock on the folder itself) by the process using it, before it gets its final
name. The kernel drops the lock when that process dies, even by SIGKILL, which runs no clean-up:
each new import first removes every import folder whose lock it can take, as no running import holds it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from types import TracebackType

PREFIX = "newsletter-import-"
_UNNAMED = f"{PREFIX}new-"
_UNNAMED_GRACE = 3600.0
"""Seconds after which a folder still unnamed (its maker died between two system calls) is removed."""


class ScratchFolder:
    """A locked folder of our own under the temporary directory: `with ScratchFolder() as path:`."""

    def __enter__(self) -> Path:
        sweep_abandoned()
        unnamed = tempfile.mkdtemp(prefix=_UNNAMED)
        self._fd = os.open(unnamed, os.O_RDONLY)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new and unnamed: nobody else has it
        named = Path(unnamed).with_name(PREFIX + Path(unnamed).name.removeprefix(_UNNAMED))
        os.rename(unnamed, named)
        self.path = named
        return named

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            os.close(self._fd)


def sweep_abandoned(root: Path | None = None) -> int:
    """Remove the import folders no running process holds; how many were removed."""
    folder_root = root or Path(tempfile.gettempdir())
    removed = 0
    for folder in folder_root.glob(f"{PREFIX}*"):
        if folder.name.startswith(_UNNAMED):
            if _age(folder) > _UNNAMED_GRACE:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            continue
        removed += _remove_if_free(folder)
    return removed


def _remove_if_free(folder: Path) -> int:
    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return 0  # a link, a file, or someone else's
        fd = os.open(folder, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return 0  # gone meanwhile, or not ours to open
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # a running import holds it
        shutil.rmtree(folder, ignore_errors=True)
        return 1
    finally:
        os.close(fd)


def _age(folder: Path) -> float:
    try:
        return time.time() - folder.stat().st_mtime
    except OSError:
        return 0.0
