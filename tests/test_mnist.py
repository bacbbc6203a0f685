"""MNIST mode: every format reads to the same arrays, bad files end in one line, the download
verifies, training on the embedded sample learns, and the per-layer summary equals statistics
computed from a full trace.  Uses only the sample inside the package and tiny files made here."""

import gzip
import hashlib
import http.server
import json
import math
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tracenn.mnist import data as mdata
from tracenn.mnist.download import download
from tracenn.mnist.observer import SummaryObserver
from tracenn.mnist.summary import FIELDS
from tracenn.mnist.training import (MnistBatches, MnistConfig, build_network, make_optimizer,
                                  measure_start, run)

run_training = run  # the `run` fixture below is the command line
from tracenn.engine.loop import FULL, Observer, train
from tracenn.record.labels import Labels
from tracenn.record.recorder import Recorder

RNG = np.random.default_rng(42)
TRAIN_X = RNG.integers(0, 256, (20, 784), dtype=np.uint8)
TRAIN_Y = RNG.integers(0, 10, 20).astype(np.uint8)
TEST_X = RNG.integers(0, 256, (7, 784), dtype=np.uint8)
TEST_Y = RNG.integers(0, 10, 7).astype(np.uint8)


def idx_bytes(magic, array, side=(28, 28)):
    dims = struct.pack(">II", *side) if magic == 2051 else b""
    return struct.pack(">II", magic, len(array)) + dims + array.tobytes()


def write_idx_folder(folder, gz=True, kaggle=False, override=None):
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "train-images-idx3-ubyte": idx_bytes(2051, TRAIN_X),
        "train-labels-idx1-ubyte": idx_bytes(2049, TRAIN_Y),
        "t10k-images-idx3-ubyte": idx_bytes(2051, TEST_X),
        "t10k-labels-idx1-ubyte": idx_bytes(2049, TEST_Y),
    }
    contents.update(override or {})
    for name, raw in contents.items():
        if kaggle:
            name = name.replace("-idx", ".idx")
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(raw) if gz else raw)
    return contents


def assert_same(d):
    np.testing.assert_array_equal(d.train_images, TRAIN_X)
    np.testing.assert_array_equal(d.train_labels, TRAIN_Y)
    np.testing.assert_array_equal(d.test_images, TEST_X)
    np.testing.assert_array_equal(d.test_labels, TEST_Y)


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("kaggle", [True, False])
def test_idx_folder(tmp_path, gz, kaggle):
    write_idx_folder(tmp_path, gz=gz, kaggle=kaggle)
    assert_same(mdata.load(tmp_path))


def test_torchvision_raw_folder(tmp_path):
    write_idx_folder(tmp_path / "MNIST" / "raw", gz=False)
    assert_same(mdata.load(tmp_path))
    assert_same(mdata.load(tmp_path / "MNIST"))


def test_keras_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=TRAIN_X.reshape(-1, 28, 28), y_train=TRAIN_Y,
             x_test=TEST_X.reshape(-1, 28, 28), y_test=TEST_Y)
    assert_same(mdata.load(path))
    assert_same(mdata.load(tmp_path))


@pytest.mark.parametrize("header", [True, False])
def test_kaggle_csv(tmp_path, header):
    for name, X, Y in (("mnist_train.csv", TRAIN_X, TRAIN_Y), ("mnist_test.csv", TEST_X, TEST_Y)):
        lines = ["label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))] if header else []
        lines += [",".join(map(str, [y, *x])) for x, y in zip(X, Y)]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    assert_same(mdata.load(tmp_path / "mnist_train.csv"))


def test_nielsen_pickle(tmp_path):
    def part(X, Y):
        return (X.astype(np.float32) / 256, Y.astype(np.int64))

    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump((part(TRAIN_X, TRAIN_Y), part(TEST_X[:2], TEST_Y[:2]), part(TEST_X, TEST_Y)), f)
    assert_same(mdata.load(path))


def test_embedded_sample():
    d = mdata.load_sample()
    assert d.train_images.shape == (5000, 784) and d.test_images.shape == (1000, 784)
    assert d.train_images.dtype == np.uint8
    # the first training digits of MNIST are 5, 0, 4, 1, 9 (LeCun's files)
    assert d.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    folder = mdata.sample_dir()
    size = sum(len(folder.joinpath(f"{name}.gz").read_bytes()) for name in mdata.FILES.values())
    assert size < 2_000_000
    assert "CC BY-SA 3.0" in folder.joinpath("NOTICE").read_text(encoding="utf-8")


# --- bad files -------------------------------------------------------------------------------

BAD_IDX = [
    ({"train-images-idx3-ubyte": idx_bytes(2049, TRAIN_X)}, "train-images", "wrong magic number 2049"),
    ({"train-labels-idx1-ubyte": idx_bytes(2049, TRAIN_Y)[:-3]}, "train-labels", "truncated"),
    ({"t10k-images-idx3-ubyte": idx_bytes(2051, TEST_X)[:-100]}, "t10k-images", "truncated"),
    ({"t10k-labels-idx1-ubyte": idx_bytes(2049, TEST_Y[:5])}, "t10k-labels", "5 labels for 7 images"),
    ({"train-labels-idx1-ubyte": idx_bytes(2049, np.full(20, 12, np.uint8))}, "train-labels",
     "label 12 at index 0 is outside 0–9"),
    ({"train-images-idx3-ubyte": idx_bytes(2051, TRAIN_X[:, :729], (27, 27))}, "train-images",
     "27×27, not 28×28"),
]


@pytest.mark.parametrize("override, file, words", BAD_IDX)
def test_bad_idx_files(run, tmp_path, override, file, words):
    write_idx_folder(tmp_path, override=override)
    result = run("mnist", "--data", tmp_path, "--epochs", "1")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert file in lines[0] and words in lines[0]
    assert result.stdout == ""


def test_truncated_gzip(run, tmp_path):
    write_idx_folder(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:200])
    result = run("mnist", "--data", tmp_path)
    assert result.exit_code == 2 and "not a complete gzip file" in result.stderr


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickle_that_would_run_code_is_refused(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(((RunsCode(), TRAIN_Y), (TEST_X, TEST_Y)), f)
    result = run("mnist", "--data", path)
    assert result.exit_code == 2
    assert "anything but arrays is refused" in result.stderr and "posix.system" in result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_pickle_of_lists_is_refused(tmp_path):
    path = tmp_path / "lists.pkl"
    path.write_bytes(pickle.dumps(((TRAIN_X.tolist(), TRAIN_Y.tolist()), (TEST_X, TEST_Y))))
    with pytest.raises(mdata.DataError, match="anything but arrays"):
        mdata.load(path)


def test_npz_with_wrong_keys_and_csv_with_wrong_width(tmp_path):
    np.savez(tmp_path / "a.npz", images=TRAIN_X)
    with pytest.raises(mdata.DataError, match="expected Keras' arrays"):
        mdata.load(tmp_path / "a.npz")
    (tmp_path / "b.csv").write_text("1,2,3\n")
    with pytest.raises(mdata.DataError, match="785"):
        mdata.load(tmp_path / "b.csv")


def test_missing_data_path(run, tmp_path):
    result = run("mnist", "--data", tmp_path / "nope")
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


@pytest.mark.parametrize("layers", ["100,10", "784,64,5", "784,x,10", "784"])
def test_bad_layers(run, layers):
    result = run("mnist", "--layers", layers)
    assert result.exit_code == 2 and "--layers" in result.stderr


@pytest.mark.parametrize("args, words", [(["--init", "glorot"], "'glorot' is not one of"),
                                          (["--init-scale", "0"], "--init-scale")])
def test_bad_init(run, args, words):
    result = run("mnist", *args)
    assert result.exit_code == 2 and words in result.stderr
    assert "Traceback" not in result.stderr


# --- CSV: the label column, header-less files, line numbers, one line per fault ----------------

HEADER = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))


def csv_rows(X, Y, label_last=False, label_format="{}"):
    if label_last:
        return [",".join([*map(str, x), label_format.format(y)]) for x, y in zip(X, Y)]
    return [",".join([label_format.format(y), *map(str, x)]) for x, y in zip(X, Y)]


def write_csv_pair(folder, header=HEADER, gz=False, **options):
    """mnist_train.csv and mnist_test.csv of the module's arrays, as Kaggle's files are."""
    paths = []
    for name, X, Y in (("mnist_train.csv", TRAIN_X, TRAIN_Y), ("mnist_test.csv", TEST_X, TEST_Y)):
        lines = ([header] if header else []) + csv_rows(X, Y, **options)
        text = "\n".join(lines) + "\n"
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
        paths.append(path)
    return paths


def one_line_refusal(result, *words):
    """The CLI refused: exit 2, one line on stderr holding `words`, no traceback, nothing on
    stdout, and none of numpy's own phrasing."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    for internal in ("Traceback", "usecols", "allow_pickle", "could not convert", "Error:"):
        assert internal not in result.stderr
    assert result.stdout == ""
    return lines[0]


def snapshot(folder):
    return {p.name: (p.read_bytes(), p.stat().st_mode) for p in folder.iterdir()}


@pytest.mark.parametrize("label_format", ["{}", "{}.0"])
def test_headerless_csv_keeps_its_first_row_with_a_bom_or_decimal_labels(tmp_path, label_format):
    for name, X, Y in (("mnist_train.csv", TRAIN_X, TRAIN_Y), ("mnist_test.csv", TEST_X, TEST_Y)):
        text = "\ufeff" + "\n".join(csv_rows(X, Y, label_format=label_format)) + "\n"
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert_same(mdata.load(tmp_path / "mnist_train.csv"))  # 20 and 7 rows: none lost


def test_gzipped_csv_is_read(tmp_path):
    write_csv_pair(tmp_path, gz=True)
    assert_same(mdata.load(tmp_path / "mnist_train.csv.gz"))
    assert_same(mdata.load(tmp_path))  # a folder holding mnist_train.csv.gz


@pytest.mark.parametrize("name", ["label", "Class", "target", "y"])
def test_label_column_found_from_the_header(tmp_path, name):
    header = ",".join([*(f"pixel{i}" for i in range(784)), name])
    write_csv_pair(tmp_path, header=header, label_last=True)
    data = mdata.load(tmp_path / "mnist_train.csv")
    assert_same(data)
    assert "labels in column 785" in data.source


def test_label_last_without_a_header_is_refused_with_a_hint(run, tmp_path):
    # The first pixel of every row here is 0, as in MNIST: read as labels it would make every
    # digit a 0 (the fault: "test accuracy 100.00%").
    X = TRAIN_X.copy()
    X[:, 0] = 0
    (tmp_path / "digits.csv").write_text("\n".join(csv_rows(X, TRAIN_Y, label_last=True)) + "\n")
    before = snapshot(tmp_path)
    result = run("mnist", "--data", tmp_path / "digits.csv", "--epochs", "1")
    one_line_refusal(result, "column 1 cannot be the label", "it holds 0 in every row",
                     "column 785", "--label-column 785")
    assert snapshot(tmp_path) == before
    result = run("mnist", "--data", tmp_path / "digits.csv", "--label-column", "785",
                 "--epochs", "1", "--json")
    assert result.exit_code == 0, result.stderr


def test_label_column_option_takes_a_number_or_a_header_name(tmp_path):
    header = ",".join(["digit", *(f"p{i}" for i in range(784))])
    write_csv_pair(tmp_path, header=header)
    assert_same(mdata.load(tmp_path / "mnist_train.csv", label_column="digit"))
    assert_same(mdata.load(tmp_path / "mnist_train.csv", label_column="1"))
    with pytest.raises(mdata.OptionError, match="no such column"):
        mdata.load(tmp_path / "mnist_train.csv", label_column="label")
    with pytest.raises(mdata.OptionError, match="from 1 to 785"):
        mdata.load(tmp_path / "mnist_train.csv", label_column="786")


def test_first_column_above_9_is_refused_with_a_hint(tmp_path):
    X = TRAIN_X.copy()
    X[:, 0] = 0
    X[3, 0] = 200  # column 1 holds pixels, column 785 the digits
    (tmp_path / "d.csv").write_text("\n".join(csv_rows(X, TRAIN_Y, label_last=True)) + "\n")
    with pytest.raises(mdata.DataError, match=r"line 4 holds 200 there.*--label-column 785"):
        mdata.load(tmp_path / "d.csv")


def _bad_cell(row: int, column: int, value: str):
    """The CSV lines of the training set with the cell (row, column) — counted from 0 in
    TRAIN_X's rows and in the file's columns — replaced by `value`."""
    lines = csv_rows(TRAIN_X, TRAIN_Y)
    cells = lines[row].split(",")
    cells[column] = value
    lines[row] = ",".join(cells)
    return lines


BAD_CSV = [
    # (row, column, value, the words): the file has a header and a blank line before row 5, so
    # row r (from 0) is on file line r + 2, or r + 3 from row 5 on
    (2, 7, "x7", "line 4, column 8: 'x7' is not a number"),
    (6, 0, "12", "line 9: the label 12 (column 1) is outside 0–9"),
    (6, 0, "-1", "line 9, column 1: the label -1 is outside 0–9"),
    (3, 300, "256", "line 5, column 301: the pixel 256 is outside 0–255"),
    (3, 300, "-3", "line 5, column 301: the pixel -3 is outside 0–255"),
    (7, 10, "12.5", "line 10, column 11: the pixel 12.5 is not a whole number"),
    (7, 10, "12.0", "line 10, column 11: the pixel 12.0 is not a whole number"),
    (7, 10, "", "line 10, column 11 is empty"),
    (1, 0, "5.5", "line 3, column 1: the label 5.5 is not one of the whole numbers 0–9"),
]


@pytest.mark.parametrize("row, column, value, words", BAD_CSV)
def test_bad_csv_cells_are_one_line_naming_the_file_line(run, tmp_path, row, column, value, words):
    lines = _bad_cell(row, column, value)
    lines.insert(5, "")
    (tmp_path / "mnist_train.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    (tmp_path / "mnist_test.csv").write_text("\n".join([HEADER, *csv_rows(TEST_X, TEST_Y)]) + "\n")
    before = snapshot(tmp_path)
    result = run("mnist", "--data", tmp_path / "mnist_train.csv", "--epochs", "1")
    line = one_line_refusal(result, "mnist_train.csv", words)
    assert snapshot(tmp_path) == before, line


def test_csv_rows_of_the_wrong_width_name_their_line(run, tmp_path):
    lines = csv_rows(TRAIN_X, TRAIN_Y)
    lines[4] += ",7"
    (tmp_path / "a.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    one_line_refusal(run("mnist", "--data", tmp_path / "a.csv"),
                     "line 6 has 786 columns", "785 columns")
    pixels = ",".join(f"pixel{i}" for i in range(784))
    (tmp_path / "test.csv").write_text(pixels + "\n" + ",".join(["0"] * 784) + "\n")
    one_line_refusal(run("mnist", "--data", tmp_path / "test.csv"), "names 784 columns",
                     "no labels")


def test_a_csv_written_with_pandas_index_gets_a_hint(run, tmp_path):
    lines = [f",{HEADER}"] + [f"{i},{row}" for i, row in enumerate(csv_rows(TRAIN_X, TRAIN_Y))]
    (tmp_path / "pandas.csv").write_text("\n".join(lines) + "\n")
    one_line_refusal(run("mnist", "--data", tmp_path / "pandas.csv"), "names 786 columns",
                     "index=False")


def test_a_data_set_without_test_images_is_refused(run, tmp_path):
    (tmp_path / "mnist_train.csv").write_text("\n".join([HEADER, *csv_rows(TRAIN_X, TRAIN_Y)]) + "\n")
    (tmp_path / "mnist_test.csv").write_text(HEADER + "\n")
    one_line_refusal(run("mnist", "--data", tmp_path / "mnist_train.csv"), "mnist_test.csv",
                     "holds no rows")
    (tmp_path / "one.csv").write_text(csv_rows(TRAIN_X, TRAIN_Y)[0] + "\n")
    one_line_refusal(run("mnist", "--data", tmp_path / "one.csv"), "a single row")
    np.savez(tmp_path / "mnist.npz", x_train=TRAIN_X, y_train=TRAIN_Y,
             x_test=TEST_X[:0], y_test=TEST_Y[:0])
    one_line_refusal(run("mnist", "--data", tmp_path / "mnist.npz"), "holds no test images")
    empty = mdata.MnistData(TRAIN_X, TRAIN_Y, TEST_X[:0], TEST_Y[:0], "arrays")
    with pytest.raises(mdata.DataError, match="no test images"):
        run_training(empty, MnistConfig(epochs=1))


def test_truncated_gzipped_csv_is_one_line(run, tmp_path):
    path, _ = write_csv_pair(tmp_path, gz=True)
    path.write_bytes(path.read_bytes()[:-40])
    one_line_refusal(run("mnist", "--data", path), "not a complete gzip file")


def test_label_column_option_is_refused_for_other_formats(run, tmp_path):
    write_idx_folder(tmp_path)
    one_line_refusal(run("mnist", "--data", tmp_path, "--label-column", "1"),
                     "--label-column applies to CSV files")


# --- other data faults ------------------------------------------------------------------------


def test_idx_with_no_training_images_is_one_line(run, tmp_path):
    write_idx_folder(tmp_path, override={
        "train-images-idx3-ubyte": idx_bytes(2051, TRAIN_X[:0]),
        "train-labels-idx1-ubyte": idx_bytes(2049, TRAIN_Y[:0])})
    before = snapshot(tmp_path)
    one_line_refusal(run("mnist", "--data", tmp_path), "train-images-idx3-ubyte.gz",
                     "holds no images")
    assert snapshot(tmp_path) == before


def test_idx_folder_missing_one_file_names_that_file(run, tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    line = one_line_refusal(run("mnist", "--data", tmp_path), "holds 3 of the four",
                            "missing t10k-labels-idx1-ubyte[.gz]")
    assert "train-images" not in line and "t10k-images" not in line


def test_npz_faults_are_in_tracenns_words(run, tmp_path):
    np.savez(tmp_path / "objects.npz", x_train=np.array([{"a": 1}], dtype=object),
             y_train=TRAIN_Y, x_test=TEST_X, y_test=TEST_Y)
    one_line_refusal(run("mnist", "--data", tmp_path / "objects.npz"),
                     "an array of Python objects")
    (tmp_path / "fake.npz").write_bytes(b"not a zip at all")
    one_line_refusal(run("mnist", "--data", tmp_path / "fake.npz"), "is not an .npz archive")


def test_a_network_too_large_is_refused_up_front_with_the_estimate(run):
    start = time.perf_counter()
    line = one_line_refusal(run("mnist", "--layers", "784,10000000,10"),
                            "784-10000000-10", "7,950,000,010 weights and biases",
                            "31.8 GB as float32", "choose smaller layers")
    assert "needs about" in line and "available" in line
    assert time.perf_counter() - start < 5  # refused, not attempted


def test_memory_check_compares_the_estimate_with_what_is_available():
    from tracenn.mnist import memory

    need = memory.estimate([784, 128, 64, 10], "momentum", 64, 70000)
    # 109,386 parameters × 4 bytes × (1 + 4 copies), 64 rows of activations, 70,000 images
    assert need == 4 * 109386 * 5 + 4 * 64 * (784 + 6 * 202) + 785 * 70000
    memory.check([784, 128, 64, 10], "momentum", 64, 70000, have=need)
    with pytest.raises(memory.UnsupportedError, match="more than the 1 MB"):
        memory.check([784, 128, 64, 10], "momentum", 64, 70000, have=10**6)


def test_output_activation_option_leaves_output_free(run):
    result = run("mnist", "--output", "sigmoid")
    assert result.exit_code == 2 and "No such option" in result.stderr
    result = run("mnist", "--output-activation", "sigmoid", "--loss", "half-sse", "--epochs", "1",
                 "--limit", "200", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["layers"][-1]["activation"] == "sigmoid"


# --- download --------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """Serve a folder on 127.0.0.1 (an ephemeral port) for the length of a test."""
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_is_read(server, tmp_path, monkeypatch):
    root, url = server
    contents = write_idx_folder(root)
    sums = {name: hashlib.md5(raw).hexdigest() for name, raw in contents.items()}
    monkeypatch.setenv("TRACENN_MNIST_MIRRORS", f"http://127.0.0.1:9/ {url}")  # first one fails
    dest = download(tmp_path / "cache", checksums=sums)
    assert sorted(p.name for p in dest.iterdir()) == sorted(f"{n}.gz" for n in contents)
    assert_same(mdata.load(dest))


def test_download_refuses_a_wrong_checksum_and_leaves_nothing(run, server, tmp_path, monkeypatch):
    root, url = server
    write_idx_folder(root)  # not the real MNIST: the published checksums cannot match
    monkeypatch.setenv("TRACENN_MNIST_MIRRORS", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = run("mnist", "--download", "--quiet")
    assert result.exit_code == 2
    assert "checksum does not match" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    cache = tmp_path / "xdg" / "tracenn" / "mnist"
    assert list(cache.iterdir()) == []  # no half-written or unverified file


def test_truncated_download_is_not_kept(server, tmp_path, monkeypatch):
    root, url = server
    contents = write_idx_folder(root)
    sums = {name: hashlib.md5(raw).hexdigest() for name, raw in contents.items()}
    p = root / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:100])
    monkeypatch.setenv("TRACENN_MNIST_MIRRORS", url)
    with pytest.raises(mdata.DataError, match="not a complete gzip file"):
        download(tmp_path / "cache", checksums=sums)
    left = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert "t10k-images-idx3-ubyte.gz" not in left and not any(n.endswith(".part") for n in left)


def _served_sums(root):
    contents = write_idx_folder(root)
    return {name: hashlib.md5(raw).hexdigest() for name, raw in contents.items()}


def test_download_cache_files_get_the_usual_mode(server, tmp_path, monkeypatch):
    root, url = server
    sums = _served_sums(root)
    monkeypatch.setenv("TRACENN_MNIST_MIRRORS", url)
    old = os.umask(0o027)
    try:
        dest = download(tmp_path / "cache", checksums=sums)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in dest.iterdir()}
    assert set(modes.values()) == {0o640}, modes  # 0666 less the umask, not mkstemp's 0600


def test_download_writes_through_a_symlink_and_keeps_permissions(server, tmp_path, monkeypatch):
    root, url = server
    sums = _served_sums(root)
    monkeypatch.setenv("TRACENN_MNIST_MIRRORS", url)
    cache, store = tmp_path / "cache", tmp_path / "store"
    cache.mkdir()
    store.mkdir()
    target = store / "train-images-idx3-ubyte.gz"
    target.write_bytes(b"an old, damaged copy")
    target.chmod(0o664)
    (cache / target.name).symlink_to(target)
    download(cache, checksums=sums)
    assert (cache / target.name).is_symlink()  # still a link, to the file now downloaded
    assert target.read_bytes() == (root / target.name).read_bytes()
    assert target.stat().st_mode & 0o777 == 0o664
    assert_same(mdata.load(cache))


def test_download_refuses_a_write_protected_cache_file(run, server, tmp_path, monkeypatch):
    root, url = server
    _served_sums(root)
    cache = tmp_path / "xdg" / "tracenn" / "mnist"
    cache.mkdir(parents=True)
    locked = cache / "train-images-idx3-ubyte.gz"
    locked.write_bytes(b"kept as it is")
    locked.chmod(0o444)
    monkeypatch.setenv("TRACENN_MNIST_MIRRORS", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.access(locked, os.W_OK):
        pytest.skip("running as a user who may write any file (root)")
    one_line_refusal(run("mnist", "--download", "--quiet"), "write-protected")
    assert locked.read_bytes() == b"kept as it is"


# --- training --------------------------------------------------------------------------------


def test_short_run_on_the_sample_learns(run):
    result = run("mnist", "--epochs", "3", "--json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(l["span"], l["epoch"]) for l in lines] == [("start", 0), ("epoch", 1), ("epoch", 2),
                                                         ("epoch", 3)]
    assert all(l["format"] == 1 and l["kind"] == "mnist-summary" for l in lines)
    assert lines[-1]["loss"] < lines[1]["loss"] < lines[0]["loss"]
    # 784-128-64-10 ReLU on the 5,000-digit sample, 3 epochs: stated accuracy ≥ 85%
    assert lines[-1]["test_accuracy"] >= 0.85
    assert [l["name"] for l in lines[-1]["layers"]] == ["hidden 1", "hidden 2", "output"]


def test_tables_sparkline_and_confusion(run):
    result = run("mnist", "--epochs", "2", "--limit", "1000", "--every", "8")
    assert result.exit_code == 0
    out = result.stdout
    assert "epoch 1/2, batches to 8" in out and "epoch 2/2 · loss" in out
    assert "loss per epoch:" in out and "Confusion matrix of the test set" in out
    assert "dead" in out


def test_start_summary_measures_the_untrained_network_without_changing_it():
    d = mdata.load_sample()
    cfg = MnistConfig(activation="sigmoid")
    net = build_network(cfg)
    before = [layer.W.copy() for layer in net.layers]
    batches = MnistBatches(d.train_images, d.train_labels)
    start = measure_start(net, batches, cfg.batch_size, d.test_images, d.test_labels)
    assert all(np.array_equal(w, layer.W) for w, layer in zip(before, net.layers))
    assert start.kind == "start" and start.epoch == 0 and start.samples == 1024
    # The loss is the untrained network's mean loss on the first 1,024 images, computed here
    # with a plain forward pass (softmax and −ln of the right class's probability).
    x = d.train_images[:1024].astype(np.float64) / 255
    a = x
    for layer in net.layers[:-1]:
        a = 1 / (1 + np.exp(-(a @ layer.W.T.astype(np.float64) + layer.b)))
    z = a @ net.layers[-1].W.T.astype(np.float64) + net.layers[-1].b
    logp = z - z.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    expected = -logp[np.arange(1024), d.train_labels[:1024]].mean()
    assert math.isclose(start.loss, expected, rel_tol=1e-4)
    assert abs(start.loss - math.log(10)) < 0.3  # an untrained 10-way softmax: about ln 10
    layers = start.layers
    assert all(math.isnan(s.update_ratio) for s in layers)  # no update was made
    # Vanishing gradients at the start: with sigmoid hidden layers the first layer's ‖∂E/∂W‖
    # is several times below the output layer's, and δ shrinks toward the input.
    assert layers[0].grad_norm < layers[-1].grad_norm / 3
    assert layers[0].delta_norm < layers[1].delta_norm < layers[2].delta_norm


def test_relu_start_has_no_vanishing_first_layer_gradient():
    d = mdata.load_sample()
    cfg = MnistConfig()
    net = build_network(cfg)
    start = measure_start(net, MnistBatches(d.train_images, d.train_labels), cfg.batch_size,
                          d.test_images, d.test_labels)
    assert start.layers[0].grad_norm > start.layers[-1].grad_norm


def test_start_summary_json_has_no_update_ratio(run):
    result = run("mnist", "--epochs", "1", "--limit", "500", "--json")
    first = json.loads(result.stdout.splitlines()[0])
    assert first["span"] == "start" and first["seconds"] == 0.0
    assert all(layer["update_ratio"] is None for layer in first["layers"])
    assert "before training" in run("mnist", "--epochs", "1", "--limit", "500").stdout


def test_tables_say_how_the_first_layer_gradient_compares(run):
    sigmoid = run("mnist", "--activation", "sigmoid", "--epochs", "1", "--limit", "500").stdout
    relu = run("mnist", "--epochs", "1", "--limit", "500").stdout
    # The first note follows the "before training" table.
    first = next(line for line in sigmoid.splitlines() if line.startswith("hidden 1 against output"))
    assert "‖∂E/∂W‖" in first and first.count("smaller") == 2
    first = next(line for line in relu.splitlines() if line.startswith("hidden 1 against output"))
    assert "‖∂E/∂W‖" in first and "larger" in first


def test_gradient_ratios_are_output_over_first_layer():
    d = mdata.load_sample()
    cfg = MnistConfig(activation="sigmoid")
    start = measure_start(build_network(cfg), MnistBatches(d.train_images, d.train_labels),
                          cfg.batch_size, d.test_images, d.test_labels)
    plain, per_weight = start.gradient_ratios
    first, last = start.layers[0], start.layers[-1]
    assert plain == pytest.approx(last.grad_norm / first.grad_norm)
    # per weight: divide by √(784·128) and √(64·10)
    assert per_weight == pytest.approx(plain * math.sqrt(784 * 128) / math.sqrt(64 * 10))


def test_zero_initial_weights_cannot_learn(run):
    # Every hidden unit computes the same thing and gets the same gradient (zero, with ReLU),
    # so the network stays a guess of the class frequencies: loss near ln 10.
    result = run("mnist", "--init", "zeros", "--epochs", "2", "--limit", "500", "--json")
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["loss"] > 2.2 and last["layers"][0]["grad_norm"] == 0


def test_init_option_chooses_the_initial_weights():
    for init, check in [
        ("he", lambda W, n_in, n_out: abs(W.std() - math.sqrt(2 / n_in)) < 0.1 * math.sqrt(2 / n_in)),
        ("lecun", lambda W, n_in, n_out: abs(W.std() - math.sqrt(1 / n_in)) < 0.1 * math.sqrt(1 / n_in)),
        ("xavier", lambda W, n_in, n_out: np.abs(W).max() <= math.sqrt(6 / (n_in + n_out))),
        ("normal", lambda W, n_in, n_out: abs(W.std() - 0.5) < 0.05),
    ]:
        net = build_network(MnistConfig(layers=[784, 64, 10], init=init, init_scale=0.5))
        W = net.layers[0].W
        assert check(W, 784, 64), init


def test_sigmoid_first_layer_gradient_per_weight_is_smaller(run):
    result = run("mnist", "--activation", "sigmoid", "--epochs", "1", "--json")
    layers = json.loads(result.stdout.splitlines()[-1])["layers"]
    assert layers[0]["grad_rms"] < layers[-1]["grad_rms"] / 5
    assert layers[0]["delta_norm"] < layers[-1]["delta_norm"]
    assert "saturated" in layers[0]


def test_summary_of_one_batch_equals_statistics_from_a_full_trace():
    d = mdata.load_sample()
    cfg = MnistConfig(layers=[784, 16, 12, 10], activation="sigmoid", epochs=1, batch_size=32)
    net = build_network(cfg)
    batches = MnistBatches(d.train_images[:32], d.train_labels[:32])
    summaries = []
    optimizer = make_optimizer(cfg)
    recorder = Recorder(Labels.indexed(cfg.layers), optimizer)
    steps = []

    class Full(Observer):  # every step recorded in full, as a trace records it
        def needs(self, step):
            return FULL

        def on_step(self, net, rec, step, epoch, idx):
            steps.append(recorder.step(net, rec, step, epoch, idx))

    observer = SummaryObserver(summaries.append, d.test_images[:50], d.test_labels[:50], every=1)
    train(net, batches, optimizer, steps=1, batch_size=32, observers=[Full(), observer])
    (step,) = steps
    summary = summaries[0]
    assert summary.samples == 32
    logits = step.layers[-1].a
    assert summary.correct == int((logits.argmax(1) == d.train_labels[:32]).sum())
    assert math.isclose(summary.loss, step.loss, rel_tol=1e-5)
    for layer, s in zip(step.layers, summary.layers):
        z, a, delta = (np.asarray(v, dtype=np.float64) for v in (layer.z, layer.a, layer.delta))
        assert math.isclose(s.z_mean, z.mean(), rel_tol=1e-4, abs_tol=1e-6)
        assert math.isclose(s.z_std, z.std(), rel_tol=1e-4)
        assert math.isclose(s.a_mean, a.mean(), rel_tol=1e-4, abs_tol=1e-6)
        assert math.isclose(s.a_std, a.std(), rel_tol=1e-4)
        assert math.isclose(s.delta_norm, math.sqrt((np.linalg.norm(delta, axis=1) ** 2).mean()),
                            rel_tol=1e-4)
        assert math.isclose(s.grad_norm, np.linalg.norm(layer.grad_W), rel_tol=1e-4)
        assert math.isclose(s.weight_norm, np.linalg.norm(layer.W_new), rel_tol=1e-4)
        ratio = np.linalg.norm(layer.W_new - layer.W) / np.linalg.norm(layer.W_new)
        assert math.isclose(s.update_ratio, ratio, rel_tol=1e-3)
        if layer.activation == "sigmoid":
            assert s.inactive_fraction == pytest.approx((a * (1 - a) < 0.01).mean())


def test_summaries_add_up_to_the_epoch():
    d = mdata.load_sample().limit(640)
    seen = []
    run(d, MnistConfig(epochs=1, every=5), emit=seen.append)
    windows = [s for s in seen if s.kind == "every"]
    epoch = [s for s in seen if s.kind == "epoch"][0]
    assert sum(w.samples for w in windows) == epoch.samples == 640
    np.testing.assert_allclose(sum(w.stats for w in windows), epoch.stats, rtol=1e-9)


def test_interrupted_run_reports_what_it_did():
    d = mdata.load_sample()
    calls = []
    result = run(d, MnistConfig(epochs=3), should_stop=lambda: len(calls) >= 10,
                 progress=lambda e, n: calls.append(n))
    assert result.interrupted
    assert result.summaries[-1].kind == "partial" and result.summaries[-1].batch == 10
    # the 2 batches after the first window of 8 (512 samples) are counted too
    assert result.summaries[-1].samples == 10 * 64
    assert result.summaries[-1].stats[0, FIELDS.index("batches")] == 10


@pytest.mark.parametrize("signum, status, name", [(signal.SIGINT, 130, "Ctrl-C"),
                                                  (signal.SIGTERM, 143, "SIGTERM")])
def test_ctrl_c_or_sigterm_stops_after_the_batch_and_prints_the_summary(signum, status, name):
    proc = subprocess.Popen([sys.executable, "-m", "tracenn", "mnist", "--epochs", "10000",
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    line = ""
    while "epoch 1/" not in line and time.time() < deadline:
        line = proc.stdout.readline()
    time.sleep(0.05)  # into the second epoch
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Confusion matrix" in out and "loss per epoch" in out
    assert err.strip() == err.strip().splitlines()[0]  # one line
    assert err.startswith(f"tracenn mnist: interrupted by {name} after ")
    assert "the summaries above cover what was done" in err


def test_sigterm_while_the_data_is_read_is_one_line_and_143(run, monkeypatch):
    import tracenn.cli.mnist as cli_mnist

    def reading(*args):
        signal.raise_signal(signal.SIGTERM)  # arrives while the file is being read
        raise AssertionError("not stopped")

    monkeypatch.setattr(cli_mnist, "_data", reading)
    result = run("mnist", "--quiet")
    assert result.exit_code == 143
    assert result.stderr.strip() == "tracenn: stopped by SIGTERM" and result.stdout == ""


def test_a_signal_before_training_stops_at_once_and_a_second_one_too():
    from tracenn.cli.mnist import _Signals
    from tracenn.cli.output import Stopped, restore_signals, stop_signals

    house = stop_signals()  # as TracennGroup.main installs them
    try:
        with _Signals() as signals:  # training has not begun: the first signal stops at once
            with pytest.raises(Stopped) as stopped:
                signal.raise_signal(signal.SIGTERM)
            assert stopped.value.exit_code == 143 and not signals.should_stop()
        with _Signals() as signals:
            signals.training = True  # now the first one asks to stop, a second stops at once
            signal.raise_signal(signal.SIGINT)
            assert signals.should_stop()
            with pytest.raises(Stopped) as stopped:
                signal.raise_signal(signal.SIGINT)
            assert stopped.value.exit_code == 130
    finally:
        restore_signals(house)


def test_divergence_is_one_line(run):
    result = run("mnist", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "1", "--limit", "200")
    assert result.exit_code == 2
    assert "diverged at step" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- large batches in chunks ------------------------------------------------------------------


def test_chunked_full_batch_step_equals_the_whole_batch_step():
    """train_step_chunked against train_step on the same 1,000-sample batch: loss, gradients
    and the updated weights agree to float32 rounding (only the order of the sums differs)."""
    from tracenn.engine.backprop import train_step, train_step_chunked
    from tracenn.engine.optim import make_optimizer as optimizer

    d = mdata.load_sample()
    data = MnistBatches(d.train_images[:1000], d.train_labels[:1000])
    for act, opt in (("relu", "momentum"), ("sigmoid", "sgd")):
        net = build_network(MnistConfig(layers=[784, 32, 16, 10], activation=act))
        whole, parts = net.copy(), net.copy()
        o1, o2 = optimizer(opt, 0.1), optimizer(opt, 0.1)
        idx = np.arange(1000)
        for _ in range(2):  # a second step also checks the optimizer's state
            (_, x, t), = data.batches(idx, 1000)
            a = train_step(whole, x, t, o1)
            seen = []
            b = train_step_chunked(parts, data.batches(idx, 300), o2,
                                   on_chunk=lambda rec, i: seen.append(len(i)))
            assert seen == [300, 300, 300, 100]
            assert math.isclose(a.loss, b.loss, rel_tol=1e-6)
            for l in range(3):
                np.testing.assert_allclose(b.grads_W[l], a.grads_W[l], rtol=1e-4, atol=1e-7)
                np.testing.assert_allclose(b.grads_b[l], a.grads_b[l], rtol=1e-4, atol=1e-7)
                np.testing.assert_allclose(parts.layers[l].W, whole.layers[l].W, rtol=1e-5,
                                           atol=1e-6)
            assert b.x is None and b.zs == []  # no array of the whole batch is kept


def _dead_in_one_chunk_network():
    """A 784-4-10 ReLU network whose unit 0 is dead on every image, and unit 1 alive only on
    images whose first pixel is lit: dead in a chunk without such an image, alive in the batch."""
    net = build_network(MnistConfig(layers=[784, 4, 10]))
    W, b = net.layers[0].W, net.layers[0].b
    W[0], b[0] = 0.0, -1.0
    W[1], b[1] = 0.0, -0.5
    W[1, 0] = 1.0
    W[2:], b[2:] = 0.0, 1.0  # alive everywhere
    return net


def test_chunked_summaries_equal_the_whole_batch_summaries():
    images = np.zeros((40, 784), np.uint8)
    images[:, 1:] = TRAIN_X[np.arange(40) % 20, 1:]
    images[33, 0] = 255  # only the last chunk of 10 has an image that wakes unit 1
    labels = np.arange(40, dtype=np.uint8) % 10
    data = mdata.MnistData(images, labels, TEST_X, TEST_Y, "made here")
    results = []
    for chunk in (None, 10):
        import tracenn.mnist.training as training

        original = training.build_network
        training.build_network = lambda cfg: _dead_in_one_chunk_network()
        try:
            results.append(run(data, MnistConfig(layers=[784, 4, 10], optimizer="sgd", lr=0.1,
                                                 batch_size=40, epochs=2), chunk=chunk))
        finally:
            training.build_network = original
    whole, chunked = results
    assert [s.kind for s in chunked.summaries] == ["start", "epoch", "epoch"]
    for a, b in zip(whole.summaries, chunked.summaries):
        assert (a.samples, a.correct) == (b.samples, b.correct)
        np.testing.assert_allclose(b.stats, a.stats, rtol=1e-5, atol=1e-6)
        assert b.layers[0].inactive_fraction == a.layers[0].inactive_fraction
    # unit 0 is dead; unit 1 only in three of the four chunks, so not dead for the batch
    assert whole.summaries[1].layers[0].inactive_fraction == 0.25


def test_observers_that_do_not_take_chunks_get_whole_batches():
    from tracenn.engine.optim import SGD

    d = mdata.load_sample()
    data = MnistBatches(d.train_images[:200], d.train_labels[:200])
    sizes = []

    class Plain(Observer):
        def on_step(self, net, rec, step, epoch, idx):
            sizes.append(len(rec.x))

    train(build_network(MnistConfig(layers=[784, 8, 10])), data, SGD(0.1), observers=[Plain()],
          epochs=1, batch_size=200, chunk_size=50)
    assert sizes == [200]


# --- the learning-rate schedule ---------------------------------------------------------------


def test_cosine_schedule_anneals_eta_step_by_step():
    from tracenn.engine.optim import SGD
    from tracenn.mnist.training import LearningRate

    opt = SGD(0.1)
    schedule = LearningRate(opt, "cosine", total_steps=4)
    seen = [opt.lr]
    for step in (1, 2, 3):
        schedule.on_step(None, None, step, 1, None)
        seen.append(opt.lr)
    # η·½(1 + cos(πt/4)) for t = 0..3, written out: 0.1, 0.0854, 0.05, 0.0146
    assert seen == pytest.approx([0.1, 0.1 * (2 + 2 ** 0.5) / 4, 0.05, 0.1 * (2 - 2 ** 0.5) / 4])
    with pytest.raises(ValueError, match="unknown schedule"):
        LearningRate(opt, "linear", 4)


def test_schedule_changes_the_run_and_is_an_option(run):
    d = mdata.load_sample().limit(640)
    constant = run_training(d, MnistConfig(epochs=2, schedule="constant"), start_summary=False)
    cosine = run_training(d, MnistConfig(epochs=2, schedule="cosine"), start_summary=False)
    assert constant.epoch_losses != cosine.epoch_losses
    result = run("mnist", "--schedule", "constant", "--epochs", "1", "--limit", "300")
    assert result.exit_code == 0 and "η = 0.1 constant" in result.stdout
    result = run("mnist", "--schedule", "cosine", "--epochs", "1", "--limit", "300")
    assert result.exit_code == 0 and "η = 0.1 on a cosine schedule" in result.stdout


def test_command_line_defaults_are_mnistconfigs():
    from tracenn.cli.mnist import mnist as command

    cfg = MnistConfig()
    defaults = {p.name: p.default for p in command.params}
    assert defaults["layers"] == ",".join(map(str, cfg.layers))
    assert (defaults["activation"], defaults["output_act"], defaults["loss"]) == \
        (cfg.activation, cfg.output, cfg.loss)
    assert (defaults["optimizer"], defaults["schedule"], defaults["mu"]) == \
        (cfg.optimizer, cfg.schedule, cfg.momentum)
    assert (defaults["batch_size"], defaults["epochs"], defaults["seed"]) == \
        (cfg.batch_size, cfg.epochs, cfg.seed)
