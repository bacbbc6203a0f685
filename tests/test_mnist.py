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
from tracenn.mnist.training import (MnistBatches, MnistConfig, build_network, make_optimizer,
                                  measure_start, run)
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


def test_ctrl_c_stops_after_the_batch_and_prints_the_summary(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tracenn", "mnist", "--epochs", "10000",
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    line = ""
    while "epoch 1/" not in line and time.time() < deadline:
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Interrupted" in out and "Confusion matrix" in out and "Traceback" not in err


def test_divergence_is_one_line(run):
    result = run("mnist", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "1", "--limit", "200")
    assert result.exit_code == 2
    assert "diverged at step" in result.stderr and len(result.stderr.strip().splitlines()) == 1
