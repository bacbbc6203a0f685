"""Build the MNIST sample that ships inside tracenn (tracenn/mnist/sample/).

    ../shared/tools/get-mnist /tmp/mnist && python3 tests/tools/make_mnist_sample.py /tmp/mnist

Takes the first 5,000 training and the first 1,000 test digits of the full MNIST in the given
folder (any format tracenn reads) and writes them as the four gzipped IDX files, so that
`tracenn mnist` works offline right after `pip install`.
"""

import gzip
import struct
import sys
from pathlib import Path

from tracenn.mnist.data import FILES, IMAGE_MAGIC, LABEL_MAGIC, load

N_TRAIN, N_TEST = 5000, 1000
OUT = Path(__file__).resolve().parents[2] / "tracenn" / "mnist" / "sample"


def idx(magic: int, array) -> bytes:
    dims = struct.pack(">II", 28, 28) if magic == IMAGE_MAGIC else b""
    return struct.pack(">II", magic, len(array)) + dims + array.tobytes()


def main(folder: str) -> None:
    data = load(folder)
    parts = {
        "train_images": (IMAGE_MAGIC, data.train_images[:N_TRAIN]),
        "train_labels": (LABEL_MAGIC, data.train_labels[:N_TRAIN]),
        "test_images": (IMAGE_MAGIC, data.test_images[:N_TEST]),
        "test_labels": (LABEL_MAGIC, data.test_labels[:N_TEST]),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for role, (magic, array) in parts.items():
        path = OUT / f"{FILES[role]}.gz"
        # mtime=0 keeps the bytes reproducible from run to run
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(idx(magic, array))
        print(f"{path}: {len(array)} records, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__))
