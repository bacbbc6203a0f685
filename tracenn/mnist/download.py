"""--download: fetch the four MNIST files into the cache folder.

Each file is tried on each mirror in turn, written to a temporary file beside its destination,
checked against the published MD5 of its uncompressed contents, and renamed into place only
when complete and correct.  A failed or interrupted download leaves nothing behind, and nothing
half-written is ever resumed.  $TRACENN_MNIST_MIRRORS (base URLs separated by spaces or commas)
replaces the mirror list, which is how the tests serve files from a local server.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Callable

from .data import FILES, MD5, DataError, cache_dir, md5_of

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
TIMEOUT = 30  # seconds without data before a mirror is given up
CHUNK = 1 << 16


def mirrors() -> list[str]:
    env = os.environ.get("TRACENN_MNIST_MIRRORS")
    if env:
        return [m if m.endswith("/") else m + "/" for m in env.replace(",", " ").split()]
    return list(MIRRORS)


def download(dest: Path | None = None, *, checksums: dict[str, str] | None = None,
             progress: Callable | None = None) -> Path:
    """Make sure `dest` (default: the cache folder) holds the four verified .gz files.

    `progress(label, total_bytes)` returns a context manager with `update(n)`, e.g. a
    click.progressbar factory; None shows nothing.  Raises DataError.
    """
    dest = Path(dest) if dest is not None else cache_dir()
    checksums = checksums or MD5
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(dest, f"cannot create the cache folder: {exc.strerror}") from None
    for name in FILES.values():
        final = dest / f"{name}.gz"
        if final.is_file() and _verified(final.read_bytes(), checksums[name]):
            continue
        errors = []
        for base in mirrors():
            url = f"{base}{name}.gz"
            try:
                _fetch(url, final, checksums[name], progress)
                break
            except (urllib.error.URLError, OSError, ValueError) as exc:
                errors.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
        else:
            raise DataError(final, "could not be downloaded from any mirror: " + "; ".join(errors))
    return dest


def _verified(gz_bytes: bytes, expected: str) -> bool:
    try:
        return md5_of(gzip.decompress(gz_bytes)) == expected
    except (OSError, EOFError, zlib.error):
        return False


class ChecksumMismatch(ValueError):
    pass


def _fetch(url: str, final: Path, expected: str, progress) -> None:
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            bar = progress(f"{final.name}", total) if progress else None
            with bar if bar is not None else _Null() as b:
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    b.update(len(chunk))
        data = Path(tmp).read_bytes()
        try:
            got = md5_of(gzip.decompress(data))
        except (OSError, EOFError, zlib.error) as exc:
            raise ChecksumMismatch(f"not a complete gzip file ({exc})") from None
        if got != expected:
            raise ChecksumMismatch(f"checksum does not match: MD5 {got}, expected {expected}")
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass
