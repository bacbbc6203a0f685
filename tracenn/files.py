"""Writing files safely: a result goes to a temporary file beside its destination and is moved
into place only when complete, so an existing file is never left half-written.

The destination keeps what a user expects of it: an existing file keeps its permissions, a
symlink is written through to its target (the link stays a link), a write-protected file is
refused rather than replaced, and a new file gets the usual mode (0666 less the umask).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from .errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _destination(path: str | os.PathLike) -> tuple[Path, int]:
    """The real file to replace (through symlinks) and the mode it should have."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if target.exists():
        mode = stat.S_IMODE(target.stat().st_mode)
        # the mode bits, not os.access: root may write anything, but a file its owner made
        # read-only is meant to stay as it is
        if not mode & 0o222 or not os.access(target, os.W_OK):
            raise OutputError(f"{path}: the file is write-protected; it was left as it is "
                              "(make it writable, or write to another file)")
        return target, mode
    if not target.parent.is_dir():
        raise OutputError(f"{path}: cannot write there: the folder {target.parent} does not exist")
    return target, 0o666 & ~_umask()


def check_destination(path: str | os.PathLike) -> None:
    """Raise OutputError now if `path` cannot be written (a folder, a write-protected file, a
    folder that does not exist), before a command writes any of several files."""
    _destination(path)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, binary: bool = False):
    """A file handle to write `path` through; the file appears (or is replaced) only when the
    block ends without an exception.  Raises OutputError."""
    target, mode = _destination(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write there: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomically(path: str | os.PathLike, data: str | bytes) -> None:
    """Write `data` (text or bytes) to `path` through a temporary file."""
    with atomic_file(path, binary=isinstance(data, bytes)) as f:
        f.write(data)


def write_folder(files: dict[str, str], directory) -> Path:
    """Write `files` (relative path: text) as the new folder `directory`, which must not exist
    or be empty: the files are written into a temporary folder beside it, which is renamed only
    when complete, so a class's folder is never half-written nor overwritten.  Raises
    OutputError."""
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(f"{directory}: exists and is not an empty folder; give a new folder "
                          "(an exercise never replaces a class's files)")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"{directory}: cannot write there: the folder {parent} does not exist")
    try:
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".part"))
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write there: {exc.strerror}") from None
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        if target.exists():
            target.rmdir()
        os.rename(tmp, target)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
