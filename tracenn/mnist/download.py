"""--download: fetch the four MNIST files into the cache folder.

Each file is tried on each mirror in turn and written through tracenn.files.atomic_file: to a
temporary file beside its destination, renamed into place only when complete and matching the
published MD5 of its uncompressed contents (checked as the bytes arrive).  A failed or
interrupted download leaves nothing behind, and nothing half-written is ever resumed.  The
files get the usual mode (0666 less the umask), an existing file keeps its permissions and a
symlinked cache file is written through to its target.  $TRACENN_MNIST_MIRRORS (base URLs separated by spaces or commas)
replaces the mirror list, which is how the tests serve files from a local server.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Callable

from ..errors import OutputError
from ..files import atomic_file
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
            except OutputError:  # the cache itself cannot be written: no mirror helps
                raise
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
    """A mirror's file is not the one expected (or not all of it): try the next mirror."""


def _read(resp) -> bytes:
    # A broken connection is the mirror's fault, not the cache's: raised as something other
    # than OSError, so that atomic_file does not report it as a failed write.
    try:
        return resp.read(CHUNK)
    except OSError as exc:
        raise ChecksumMismatch(f"the download broke off ({getattr(exc, 'reason', None) or exc})") from None


def _fetch(url: str, final: Path, expected: str, progress) -> None:
    """Download `url` into `final`, which appears only if the file is a complete gzip file
    whose contents have the MD5 `expected`."""
    digest = hashlib.md5()
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip's header and trailer
    with urllib.request.urlopen(url, timeout=TIMEOUT) as resp, \
            atomic_file(final, binary=True) as out:
        total = int(resp.headers.get("Content-Length") or 0) or None
        bar = progress(f"{final.name}", total) if progress else None
        with bar if bar is not None else _Null() as b:
            while chunk := _read(resp):
                out.write(chunk)
                try:
                    digest.update(inflate.decompress(chunk))
                except zlib.error:
                    raise ChecksumMismatch("not a complete gzip file: it is damaged") from None
                b.update(len(chunk))
        if not inflate.eof:
            raise ChecksumMismatch("not a complete gzip file: it ends early")
        if digest.hexdigest() != expected:
            raise ChecksumMismatch(f"checksum does not match: MD5 {digest.hexdigest()}, "
                                   f"expected {expected}")


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass
