"""MNIST in the formats people actually have, validated, kept as uint8.

Formats, detected automatically:
  - a folder with the four IDX files, gzipped or not, named as on LeCun's site
    (train-images-idx3-ubyte.gz), as in torchvision's raw/ folder, or as Kaggle spells them
    (train-images.idx3-ubyte); the folder may also be the one above raw/ or MNIST/raw/;
  - Keras' mnist.npz (x_train, y_train, x_test, y_test), read without pickle;
  - CSV with the label in the first column and 784 pixels after it, with or without a header
    (Kaggle's "MNIST in CSV": mnist_train.csv, mnist_test.csv); a single CSV without a test
    file beside it keeps its last 1/7 as the test set;
  - mnist.pkl.gz, the deeplearning.net / Nielsen file of (train, validation, test), read with a
    restricted unpickler that builds numpy arrays and nothing else.

Without a path: $TRACENN_DATA, then the download cache, then the sample that ships in the
package (5,000 training and 1,000 test digits).  MNIST: Y. LeCun, C. Cortes, C. J. C. Burges,
licensed CC BY-SA 3.0 (see sample/NOTICE).

Every problem with a file is a DataError naming the file: wrong magic number, truncated file,
image and label counts that differ, labels outside 0–9, images that are not 28×28, a pickle
holding anything but arrays, a checksum that does not match.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import DataError, OptionError
from .csvdata import read_csv

IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
SIDE = 28
PIXELS = SIDE * SIDE

FILES = {  # role -> standard file name
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# The published MD5 sums of the four uncompressed files.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


@dataclass
class MnistData:
    """Images as uint8 (N, 784), labels as uint8 (N,), and where they came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str

    def limit(self, n: int | None) -> "MnistData":
        if n is None:
            return self
        return MnistData(self.train_images[:n], self.train_labels[:n], self.test_images,
                         self.test_labels, self.source)


# --------------------------------------------------------------------------------------------
# IDX
# --------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(path, f"cannot be read: {exc.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise DataError(path, "is not a complete gzip file: it ends early or is "
                            "damaged") from None
    return raw


def parse_idx(raw: bytes, path, expect: int) -> np.ndarray:
    """An IDX file's contents: images (N, 784) for magic 2051, labels (N,) for 2049."""
    if len(raw) < 8:
        raise DataError(path, f"truncated: {len(raw)} bytes, shorter than an IDX header")
    magic, count = struct.unpack(">II", raw[:8])
    if magic != expect:
        what = "images" if expect == IMAGE_MAGIC else "labels"
        raise DataError(path, f"wrong magic number {magic}; an IDX file of {what} starts "
                        f"with {expect}")
    if expect == LABEL_MAGIC:
        body = raw[8:]
        if len(body) != count:
            raise DataError(path, f"truncated: the header announces {count} labels, the file "
                            f"holds {len(body)}")
        if count == 0:
            raise DataError(path, "holds no labels (its header announces 0)")
        labels = np.frombuffer(body, dtype=np.uint8)
        if labels.size and labels.max() > 9:
            bad = int(np.flatnonzero(labels > 9)[0])
            raise DataError(path, f"label {labels[bad]} at index {bad} is outside 0–9")
        return labels
    if len(raw) < 16:
        raise DataError(path, "truncated: the image header is incomplete")
    rows, cols = struct.unpack(">II", raw[8:16])
    if (rows, cols) != (SIDE, SIDE):
        raise DataError(path, f"images are {rows}×{cols}, not 28×28")
    body = raw[16:]
    if count == 0:
        raise DataError(path, "holds no images (its header announces 0)")
    if len(body) != count * PIXELS:
        raise DataError(path, f"truncated: the header announces {count} images of 28×28 "
                        f"({count * PIXELS} bytes), the file holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(count, PIXELS)


def _find_idx(folder: Path, name: str) -> Path | None:
    head, kind = name.rsplit("-", 2)[0], name.rsplit("-", 2)[1]  # "train-images", "idx3"
    candidates = [name, f"{head}.{kind}-ubyte"]  # LeCun's name, and Kaggle's spelling
    for cand in candidates:
        for suffix in ("", ".gz"):
            p = folder / f"{cand}{suffix}"
            if p.is_file():
                return p
    return None


def load_idx_folder(folder: Path) -> MnistData:
    """The four IDX files of `folder`, of its raw/ or of its MNIST/raw/ (torchvision's)."""
    candidates = []
    for sub in (folder, folder / "raw", folder / "MNIST" / "raw"):
        paths = {role: _find_idx(sub, name) for role, name in FILES.items()}
        if all(paths.values()):
            break
        candidates.append((sum(p is not None for p in paths.values()), sub, paths))
    else:
        found, sub, paths = max(candidates, key=lambda c: c[0])  # the folder that has most
        missing = [f"{FILES[r]}[.gz]" for r, p in paths.items() if p is None]
        if found:
            raise DataError(sub, f"holds {found} of the four MNIST IDX files; missing "
                            f"{' and '.join(missing)}")
        raise DataError(folder, "no MNIST found here: expected the four IDX files "
                        "(train-images-idx3-ubyte[.gz], …), mnist.npz, mnist.pkl.gz or "
                        "mnist_train.csv")
    arrays = {}
    for role, p in paths.items():
        expect = IMAGE_MAGIC if role.endswith("images") else LABEL_MAGIC
        arrays[role] = parse_idx(_read_bytes(p), p, expect)
    for part in ("train", "test"):
        n_img, n_lab = len(arrays[f"{part}_images"]), len(arrays[f"{part}_labels"])
        if n_img != n_lab:
            raise DataError(paths[f"{part}_labels"], f"{n_lab} labels for {n_img} images")
    return MnistData(arrays["train_images"], arrays["train_labels"], arrays["test_images"],
                     arrays["test_labels"], str(folder))


# --------------------------------------------------------------------------------------------
# npz, CSV, pickle
# --------------------------------------------------------------------------------------------


def _checked(images, labels, path, what: str) -> tuple[np.ndarray, np.ndarray]:
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim == 3:
        if images.shape[1:] != (SIDE, SIDE):
            raise DataError(path, f"{what} images are {images.shape[1]}×{images.shape[2]}, "
                            "not 28×28")
        images = images.reshape(len(images), PIXELS)
    if images.ndim != 2 or images.shape[1] != PIXELS:
        raise DataError(path, f"{what} images have shape {images.shape}; expected N×28×28 or "
                        "N×784")
    labels = labels.reshape(-1)
    if len(images) == 0:
        raise DataError(path, f"holds no {what} images")
    if len(images) != len(labels):
        raise DataError(path, f"{len(labels)} {what} labels for {len(images)} images")
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise DataError(path, f"{what} labels must be whole numbers 0–9")
    return _to_uint8(images, path, what), labels.astype(np.uint8)


def _to_uint8(images: np.ndarray, path, what: str) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    x = images.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise DataError(path, f"{what} images hold values that are not finite")
    if x.size and x.max() <= 1.0 and x.min() >= 0.0:
        # pixels scaled to [0, 1]: Nielsen's file stores byte/256 exactly; others use byte/255
        scaled = x * 256
        x = scaled if np.array_equal(scaled, np.round(scaled)) and scaled.max() <= 255 else x * 255
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(path, f"{what} pixel values lie outside 0–255")
    return np.round(x).astype(np.uint8)


def load_npz(path: Path) -> MnistData:
    """Keras' mnist.npz: the arrays x_train, y_train, x_test, y_test, read without pickle."""
    if not zipfile.is_zipfile(path):
        raise DataError(path, "is not an .npz archive (the zip of .npy arrays that numpy.savez "
                        "writes, as Keras' mnist.npz)")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            need = {"x_train", "y_train", "x_test", "y_test"}
            if not need <= keys:
                raise DataError(path, f"expected Keras' arrays {', '.join(sorted(need))}; found "
                                f"{', '.join(sorted(keys)) or 'none'}")
            xtr, ytr = _checked(f["x_train"], f["y_train"], path, "training")
            xte, yte = _checked(f["x_test"], f["y_test"], path, "test")
    except DataError:
        raise
    except ValueError:  # numpy refuses an array of Python objects without pickle
        raise DataError(path, "holds an array of Python objects, not numbers; tracenn reads "
                        "only numeric arrays (objects would need pickle, which can run code)") from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error):
        raise DataError(path, "is a damaged .npz archive: an array in it cannot be read") from None
    return MnistData(xtr, ytr, xte, yte, str(path))


def load_csv(path: Path, label_column: str | int | None = None) -> MnistData:
    """A CSV file (plain or .csv.gz), with its test file beside it (mnist_train.csv →
    mnist_test.csv) or, without one, its last 1/7 kept as the test set (10k of 70k)."""
    images, labels, k = read_csv(path, label_column)
    where = f" (labels in column {k + 1})" if k else ""
    test = path.with_name(path.name.replace("train", "test")) if "train" in path.name else None
    if test is not None and test != path and test.is_file():
        t_images, t_labels, _ = read_csv(test, label_column)
        return MnistData(images, labels, t_images, t_labels, f"{path} + {test.name}{where}")
    if len(images) < 2:
        raise DataError(path, "holds a single row and no test file beside it; without one, "
                        "tracenn keeps the last 1/7 of the rows (at least one) as test images")
    cut = len(images) - max(1, len(images) // 7)
    return MnistData(images[:cut], labels[:cut], images[cut:], labels[cut:], f"{path}{where}")


class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: every other global is refused, so a pickle
    that would run code (os.system, eval, …) fails before anything runs."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise _Refused(f"refusing {module}.{name}: only numpy arrays are allowed")


class _Refused(pickle.UnpicklingError):
    pass


def load_pickle(path: Path) -> MnistData:
    raw = _read_bytes(path)
    try:
        obj = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    except _Refused as exc:
        raise DataError(path, f"a pickle holding anything but arrays is refused ({exc})") from None
    except Exception:  # a damaged pickle can fail in many ways
        raise DataError(path, "is not a readable pickle: it is damaged, or not a pickle "
                        "(expected mnist.pkl.gz as deeplearning.net and Nielsen's book ship it)") from None
    parts = obj if isinstance(obj, (tuple, list)) else None
    if not parts or len(parts) not in (2, 3) or not all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in parts):
        raise DataError(path, "expected (train, validation, test) pairs of (images, labels), as "
                        "in mnist.pkl.gz")
    for part in parts:
        for item in part:
            if not isinstance(item, np.ndarray):
                raise DataError(path, f"a pickle holding anything but arrays is refused (found "
                                f"a {type(item).__name__})")
    xtr, ytr = _checked(*parts[0], path, "training")
    xte, yte = _checked(*parts[-1], path, "test")
    return MnistData(xtr, ytr, xte, yte, str(path))


# --------------------------------------------------------------------------------------------
# Finding the data
# --------------------------------------------------------------------------------------------


def load(path: str | os.PathLike, label_column: str | int | None = None) -> MnistData:
    """Read MNIST from a folder or a file in any of the supported formats.  `label_column`
    (a header name, or a number counted from 1) says where a CSV file keeps its labels."""
    p = Path(path)
    if not p.exists():
        raise DataError(p, "no such file or folder")
    if p.is_dir():
        for name in ("mnist.npz", "mnist.pkl.gz", "mnist.pkl", "mnist_train.csv",
                     "mnist_train.csv.gz"):
            if (p / name).is_file() and _find_idx(p, FILES["train_images"]) is None:
                return load(p / name, label_column)
        _no_label_column(label_column, p, "a folder of IDX files")
        return load_idx_folder(p)
    name = p.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return load_csv(p, label_column)
    if name.endswith(".npz"):
        _no_label_column(label_column, p, "an .npz archive")
        return load_npz(p)
    if name.endswith((".pkl.gz", ".pkl", ".pickle")):
        _no_label_column(label_column, p, "a pickle")
        return load_pickle(p)
    raise DataError(p, "unknown format; expected a folder of IDX files, a .npz, a .pkl.gz, a "
                    ".csv or a .csv.gz file")


def _no_label_column(label_column, path, what: str) -> None:
    if label_column is not None:
        raise OptionError(f"--label-column applies to CSV files; {path} is {what}, whose "
                          "labels are stored apart from the images")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tracenn" / "mnist"


def sample_dir():
    return resources.files("tracenn.mnist").joinpath("sample")


def load_sample() -> MnistData:
    arrays = {}
    folder = sample_dir()
    for role, name in FILES.items():
        raw = gzip.decompress(folder.joinpath(f"{name}.gz").read_bytes())
        arrays[role] = parse_idx(raw, f"sample {name}",
                                 IMAGE_MAGIC if role.endswith("images") else LABEL_MAGIC)
    return MnistData(arrays["train_images"], arrays["train_labels"], arrays["test_images"],
                     arrays["test_labels"], "the sample inside tracenn (5,000 + 1,000 digits)")


def resolve(path: str | None, label_column: str | int | None = None) -> MnistData:
    """--data, else $TRACENN_DATA, else the download cache, else the embedded sample."""
    if path:
        return load(path, label_column)
    env = os.environ.get("TRACENN_DATA")
    if env:
        return load(env, label_column)
    _no_label_column(label_column, "the MNIST that tracenn finds without --data",
                     "a folder of IDX files")
    cache = cache_dir()
    if all((cache / f"{name}.gz").is_file() for name in FILES.values()):
        return load_idx_folder(cache)
    return load_sample()


def md5_of(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()
