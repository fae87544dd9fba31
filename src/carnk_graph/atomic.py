"""Writing files so that a failure replaces nothing: a temporary file in the same folder, then a rename.

Every file the package writes (a release, an export, the docs, the site's
pieces) goes through here, so a full disk or a kill half-way leaves the old
files as they were and no temporary behind.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping

from .errors import BadInputError


def make_folder(directory: Path) -> None:
    """Create an output folder (and its parents) unless it exists; one that cannot be made is exit 2."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInputError(f"cannot create output directory: {e.strerror}", path=directory) from None


def write_files(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write every file to a temporary name in `directory`, then rename them all into place.

    If any write fails (or anything else interrupts it), the temporaries are
    removed and no file is replaced.
    """
    make_folder(directory)
    for name in files:
        if (directory / name).is_dir():  # checked first: a rename over a folder fails half-way through
            raise BadInputError("is a directory; cannot write a file there", path=directory / name)
    temps: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            temps.append((name, Path(tmp)))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a release is for everyone to read
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name, tmp in temps:
            os.replace(tmp, directory / name)
    except BaseException as e:
        for _, tmp in temps:
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise BadInputError(f"cannot write {_names(files)}: {e.strerror or e}", path=directory) from None
        raise


def _names(files: Mapping[str, bytes]) -> str:
    names = list(files)
    return names[0] if len(names) == 1 else f"the release ({len(names)} files)"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write one file atomically (temporary file in the same folder, then rename).

    A device or a pipe (/dev/stdout, /dev/full, a FIFO) is written in place:
    renaming a temporary file over it would replace the device node itself.
    A symbolic link to a regular file keeps being a link; its target is replaced.
    """
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise BadInputError(f"cannot write: {e.strerror}", path=path) from None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        try:
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
        except OSError as e:
            raise BadInputError(f"cannot write: {e.strerror or e}", path=path) from None
        return
    if mode is not None and path.is_symlink():
        path = Path(os.path.realpath(path))
    write_files(path.parent, {path.name: data})
