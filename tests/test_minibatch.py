"""Mini-batches in specs (issue 20): `mode = "mini-batch"` replays a hand-written NumPy
mini-batch loop to 1e-12 — in order with a smaller last batch, shuffled from the spec's seed,
the learner's own batches, and Nielsen's `SGD` (random.shuffle each epoch, recorded as
`order`).  The reference loops below are written out here, independent of the engine."""

import json
import random

import numpy as np
import pytest

import tracenn

W1 = [[0.15, -0.2], [0.25, 0.3], [-0.35, 0.1]]
B1 = [0.35, -0.1, 0.05]
W2 = [[0.4, 0.45, -0.3], [-0.5, 0.55, 0.2]]
B2 = [0.6, 0.2]
X = [[0.05, 0.1], [1.0, 0.0], [0.3, -0.7], [0.0, 0.0], [-0.45, 0.9]]
T = [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.01, 0.99]]


def spec_text(training: str, loss: str = "mse", data=(X, T)) -> str:
    return f"""
[network]
sizes = [2, 3, 2]
activations = ["sigmoid", "sigmoid"]
loss = "{loss}"
[[layer]]
weights = {W1}
biases = {B1}
[[layer]]
weights = {W2}
biases = {B2}
[training]
learning_rate = 0.5
mode = "mini-batch"
{training}
[data]
inputs = {data[0]}
targets = {data[1]}
"""


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_loop(batches, eta=0.5, half_sse=False):
    """A learner's mini-batch loop, samples in rows: forward, δ, the batch-mean gradient, W −= η·g.
    Returns (W1, b1, W2, b2) after each batch."""
    W = [np.array(W1), np.array(W2)]
    b = [np.array(B1), np.array(B2)]
    Xa, Ta = np.array(X), np.array(T)
    out = []
    for idx in batches:
        x, t = Xa[idx], Ta[idx]
        a1 = sigmoid(x @ W[0].T + b[0])
        a2 = sigmoid(a1 @ W[1].T + b[1])
        dE_da2 = (a2 - t) if half_sse else 2 * (a2 - t) / t.shape[1]
        d2 = dE_da2 * a2 * (1 - a2)
        d1 = (d2 @ W[1]) * a1 * (1 - a1)
        n = len(idx)
        grads = [(d1.T @ x / n, d1.mean(axis=0)), (d2.T @ a1 / n, d2.mean(axis=0))]
        for l, (gW, gb) in enumerate(grads):
            W[l] = W[l] - eta * gW
            b[l] = b[l] - eta * gb
        out.append((W[0], b[0], W[1], b[1]))
    return out


def assert_replays(run, batches):
    steps = run.steps
    assert [s.samples for s in steps] == [list(b) for b in batches]
    for s, ref in zip(steps, numpy_loop(batches)):
        got = (s.layers[0].W_new, s.layers[0].b_new, s.layers[1].W_new, s.layers[1].b_new)
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g, r, rtol=0, atol=1e-12)


def test_in_order_with_a_smaller_last_batch():
    run = tracenn.trace(spec_text("batch_size = 2\nepochs = 3"))
    assert len(run.steps) == 9
    assert_replays(run, [[0, 1], [2, 3], [4]] * 3)


def test_shuffled_each_epoch_from_the_seed():
    # the documented order: rng = np.random.default_rng(seed); each epoch rng.permutation(N)
    rng = np.random.default_rng(11)
    batches = []
    for _ in range(3):
        order = rng.permutation(5)
        batches += [order[:2].tolist(), order[2:4].tolist(), order[4:].tolist()]
    text = spec_text("batch_size = 2\nshuffle = true\nseed = 11\nepochs = 3")
    run = tracenn.trace(text)
    assert_replays(run, batches)
    again = tracenn.trace(text)  # every run replays the same order
    assert [s.samples for s in again.steps] == [s.samples for s in run.steps]
    assert tracenn.trace(text, seed=3).steps[0].samples == batches[0]  # --seed: init only


def test_the_learners_own_batches():
    own = [[2, 0], [1, 4, 3]]
    run = tracenn.trace(spec_text(f"batches = {own}\nsteps = 5"))
    assert_replays(run, (own * 3)[:5])
    assert tracenn.step(spec_text(f"batches = {own}\nsteps = 5"), 4).samples == [1, 4, 3]


def test_nielsen_sgd_replays_with_its_shuffles_recorded():
    # network.py's SGD: random.shuffle(training_data) each epoch, slices of mini_batch_size,
    # update_mini_batch: w − (η/m)·Σ nabla_w, quadratic cost ½‖a − y‖² (half-sse)
    random.seed(4)
    training_data = list(range(5))  # stand-ins for (x, y) pairs: their indices
    orders = []
    for _ in range(4):
        random.shuffle(training_data)  # in place: each epoch shuffles the last one's order
        orders.append(list(training_data))
    batches = [o[k:k + 3] for o in orders for k in range(0, 5, 3)]
    run = tracenn.trace(spec_text(f"batch_size = 3\norder = {orders}\nepochs = 4",
                                  loss="half-sse"))
    assert [s.samples for s in run.steps] == batches
    for s, ref in zip(run.steps, numpy_loop(batches, half_sse=True)):
        np.testing.assert_allclose(s.layers[1].W_new, ref[2], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s.layers[0].b_new, ref[1], rtol=0, atol=1e-12)


class NielsenNetwork:
    """network.py's Network, as Nielsen writes it: column vectors, biases (n, 1), backprop one
    sample at a time, nabla summed over the mini-batch, w − (η/m)·nabla_w."""

    def __init__(self):
        self.weights = [np.array(W1), np.array(W2)]
        self.biases = [np.array(B1).reshape(-1, 1), np.array(B2).reshape(-1, 1)]

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        n = len(training_data)
        for _ in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta)
                yield [i for i, _, _ in training_data[k:k + mini_batch_size]], \
                    [w.copy() for w in self.weights], [b.copy() for b in self.biases]

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for _, x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))
        nabla_b, nabla_w = [None, delta], [None, np.dot(delta, activations[-2].T)]
        sp = sigmoid(zs[0]) * (1 - sigmoid(zs[0]))
        delta = np.dot(self.weights[1].T, delta) * sp
        nabla_b[0], nabla_w[0] = delta, np.dot(delta, activations[0].T)
        return nabla_b, nabla_w


def test_nielsens_own_network_py_loop_replays():
    data = [(i, np.array(x).reshape(-1, 1), np.array(t).reshape(-1, 1))
            for i, (x, t) in enumerate(zip(X, T))]
    random.seed(21)
    seen = list(NielsenNetwork().SGD(data, 3, 2, 0.5))
    orders = [sum((b for b, _, _ in seen[e * 3:(e + 1) * 3]), []) for e in range(3)]
    run = tracenn.trace(spec_text(f"batch_size = 2\norder = {orders}\nepochs = 3",
                                  loss="half-sse"))
    assert len(run.steps) == len(seen) == 9
    for s, (batch, weights, biases) in zip(run.steps, seen):
        assert s.samples == batch
        for l in range(2):
            np.testing.assert_allclose(s.layers[l].W_new, weights[l], rtol=0, atol=1e-12)
            np.testing.assert_allclose(s.layers[l].b_new, biases[l].ravel(), rtol=0, atol=1e-12)


def test_order_from_a_numpy_array_in_the_api(tmp_path):
    orders = np.array([[4, 3, 2, 1, 0], [0, 2, 4, 1, 3]])
    spec = tracenn.load(spec_text("batch_size = 2\nepochs = 2"))
    mine = spec.with_mini_batches(2, order=orders)
    assert_replays(tracenn.trace(mine), [[4, 3], [2, 1], [0], [0, 2], [4, 1], [3]])
    assert spec.training.order is None  # a copy
    with pytest.raises(tracenn.SpecError, match=r"training.order\[1\]: expected a permutation"):
        spec.with_mini_batches(2, order=np.array([[0, 1, 2, 3, 4], [0, 0, 1, 2, 3]]))
    own = spec.with_mini_batches(batches=[np.array([1, 0]), [2, 3, 4]])
    assert [s.samples for s in tracenn.trace(own, 3).steps] == [[1, 0], [2, 3, 4], [1, 0]]


def test_json_records_each_batchs_indices(run, tmp_path):
    path = tmp_path / "mb.toml"
    path.write_text(spec_text("batch_size = 2\nshuffle = true\nseed = 5\nsteps = 4"))
    result = run("trace", path, "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    steps = [l for l in lines if "samples" in l]
    expected = [s.samples for s in tracenn.trace(path).steps]
    assert [l["samples"] for l in steps] == expected
    assert sorted(expected[0] + expected[1] + expected[2]) == [0, 1, 2, 3, 4]
    result = run("trace", path, "--every", "4")
    assert result.exit_code == 0, result.output
    # the text trace's sample column counts from 1
    assert f"       {expected[3][0] + 1}  x1" in result.stdout


def test_verify_a_mini_batch_step(run, tmp_path):
    text = spec_text("batch_size = 3\nshuffle = true\nseed = 2\nsteps = 4")
    v = tracenn.verify(text, step=3)
    assert v.ok
    path = tmp_path / "mb.toml"
    path.write_text(text)
    result = run("verify", path, "--step", "2")
    assert result.exit_code == 0 and "FAIL" not in result.stdout, result.output


def test_compare_a_mini_batch_step(run, tmp_path):
    text = spec_text("batches = [[3, 1], [0, 2, 4]]\nsteps = 4")
    right = tracenn.step(text, 2)
    assert tracenn.compare(text, right, step=2).ok
    path = tmp_path / "mb.toml"
    path.write_text(text)
    own = run("trace", path, "--json", "--every", "1")
    values = tmp_path / "own.jsonl"
    values.write_text(own.stdout)
    result = run("compare", path, "--values", values, "--step", "2")
    assert result.exit_code == 0 and "Every value you gave matches" in result.stdout
    # a wrong gradient at the batch of step 2 is found
    grads = {f"dE/d{name}": value for name, value in right.grads().items()}
    assert tracenn.compare(text, grads, step=2).ok
    assert not tracenn.compare(text, grads, step=1).ok  # step 1's batch [3, 1] is another
    grads["dE/dW1[2,1]"] += 0.01
    wrong = tracenn.compare(text, grads, step=2)
    assert not wrong.ok and wrong.first.name == "dE/dW1[2,1]"


@pytest.mark.parametrize("training, message", [
    ("batch_size = 0", "training.batch_size: expected a whole number ≥ 1, got 0"),
    ("batch_size = 6", "training.batch_size: expected a whole number from 1 to 5"),
    ("shuffle = true", "training.batch_size: mode = \"mini-batch\" needs batch_size"),
    ("batches = [[0, 1], [2, 3]]", "training.batches: sample(s) 4 in no batch"),
    ("batches = [[0, 1], [2, 3, 1], [4]]", "training.batches[1]: sample 1 is already in batch 0"),
    ("batches = [[0, 1], [2, 3, 5], [4]]", "training.batches[1][2]: expected a sample index"),
    ("batches = [[0, 1, 2, 3, 4]]\nbatch_size = 2", "training.batch_size: give either batches"),
    ("batch_size = 2\norder = [[0, 1, 2, 3, 3]]", "sample 3 comes twice"),
    ("batch_size = 2\norder = [[0, 1, 2, 3]]", "expected a permutation of the 5 sample"),
    ("batch_size = 2\norder = [[0, 1, 2, 3, 4]]\nepochs = 2", "epochs = 2 needs 2 permutation"),
    ("batch_size = 2\nshuffle = 1", "training.shuffle: expected true or false, got 1"),
    ("batch_size = 2\nshuffle = true\norder = [[0, 1, 2, 3, 4]]", "not both"),
    ("batch_size = 2\nbatch_sise = 2", "did you mean 'batch_size'"),
])
def test_bad_mini_batch_keys_are_one_line(run, tmp_path, training, message):
    path = tmp_path / "bad.toml"
    path.write_text(spec_text(training))
    result = run("trace", path)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_mini_batch_keys_need_the_mode(run, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(spec_text("batch_size = 2").replace('mode = "mini-batch"', 'mode = "batch"'))
    result = run("trace", path)
    assert result.exit_code == 2
    assert "training.batch_size: used only with mode = \"mini-batch\"" in result.output
    path.write_text(spec_text("batch_size = 2").replace('"mini-batch"', '"minibatch"'))
    assert "\"mini-batch\"" in run("trace", path).output


def test_more_steps_than_the_order_gives(run, tmp_path):
    path = tmp_path / "mb.toml"
    path.write_text(spec_text("batch_size = 2\norder = [[0, 1, 2, 3, 4]]\nsteps = 2"))
    result = run("trace", path, "--steps", "4")
    assert result.exit_code == 2
    assert "4 steps asked for, but the spec's training.order gives 1 epoch(s)" in result.output


def test_the_spec_writer_round_trips_the_mini_batch_keys():
    from tracenn.spec import parse_spec
    from tracenn.spec.writer import spec_to_toml

    for training in ("batch_size = 2\nshuffle = true\nseed = 9\nsteps = 4",
                     "batches = [[2, 0], [1, 4, 3]]\nsteps = 3",
                     "batch_size = 3\norder = [[4, 3, 2, 1, 0]]\nepochs = 1"):
        spec = tracenn.load(spec_text(training))
        again = parse_spec(spec_to_toml(spec))
        assert again.training == spec.training
        assert [s.samples for s in tracenn.trace(again).steps] == \
            [s.samples for s in tracenn.trace(spec).steps]


def test_order_from_an_npy_file_beside_the_spec(run, tmp_path):
    """A learner's per-epoch permutations saved with np.save (one row per epoch) replay as the
    NumPy loop written above; a file that is not a permutation is refused in one line."""
    np.save(tmp_path / "order.npy", np.array([[4, 3, 2, 1, 0], [0, 2, 4, 1, 3]]))
    path = tmp_path / "mb.toml"
    path.write_text(spec_text('batch_size = 2\norder = "order.npy"\nepochs = 2'))
    assert_replays(tracenn.trace(tracenn.load(path)),
                   [[4, 3], [2, 1], [0], [0, 2], [4, 1], [3]])
    np.save(tmp_path / "order.npy", np.array([0, 0, 1, 2, 3]))
    result = run("trace", path, "--steps", "1")
    assert result.exit_code == 2
    assert "training.order[0]: expected a permutation of the 5 sample indices" in result.output
    path.write_text(spec_text('batch_size = 2\norder = "missing.npy"'))
    result = run("trace", path, "--steps", "1")
    assert result.exit_code == 2 and "training.order: no such array file" in result.output
