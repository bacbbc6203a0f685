"""MNIST's hot path (issue 24): the lean step (no per-step loss, gradients and updates in
reused buffers, the update in place) makes the same numbers as the step that computes and keeps
everything, and the divergence check, now made once per window, still stops a diverging run in
one line that names the step range and the layer.  Uses only the sample inside the package."""

import re

import numpy as np
import pytest

from tracenn.engine.loop import ArrayData, check_finite_parameters, iterate, observed
from tracenn.engine.optim import make_optimizer as optimizer
from tracenn.errors import TrainingDiverged
from tracenn.mnist import data as mdata
from tracenn.mnist.observer import SummaryObserver
from tracenn.mnist.summary import FIELDS
from tracenn.mnist.training import (MnistBatches, MnistConfig, _Progress, _room, _window,
                                    build_network, make_optimizer, run)


@pytest.mark.parametrize("name, decay", [("sgd", 0.0), ("momentum", 5e-4), ("nesterov", 5e-4),
                                         ("adam", 0.0), ("adamw", 0.01)])
def test_lean_steps_make_the_same_weights_as_full_steps(name, decay):
    """Workspace buffers and the in-place update change where the numbers are written, not the
    numbers: 30 steps of each optimizer, lean and not, end in bit-identical weights."""
    d = mdata.load_sample()
    batches = MnistBatches(d.train_images[:600], d.train_labels[:600])
    cfg = MnistConfig(layers=[784, 16, 12, 10])
    nets = []
    for lean in (False, True):
        net = build_network(cfg)
        seen = []
        for ev in iterate(net, batches, optimizer(name, 0.01, weight_decay=decay), steps=30,
                          batch_size=20, rng=np.random.default_rng(3), lean=lean):
            seen.append(ev.record.loss)
        assert (seen[0] is None) == lean  # the lean step computes no loss
        nets.append(net)
    for full, lean in zip(*(n.layers for n in nets)):
        np.testing.assert_array_equal(lean.W, full.W)
        np.testing.assert_array_equal(lean.b, full.b)


def test_small_traces_keep_every_array_of_every_step():
    """Without `lean` (the small-trace engine) each step's record holds its own arrays and its
    loss: a record kept from step 1 is not overwritten by step 2."""
    X = np.array([[0.05, 0.10], [0.3, 0.2]])
    T = np.array([[0.01, 0.99], [0.5, 0.5]])
    from tracenn.engine.functions import ACTIVATIONS, LOSSES
    from tracenn.engine.network import Network, init_layers

    layers = init_layers([2, 2, 2], [ACTIVATIONS["sigmoid"]] * 2, np.random.default_rng(0))
    net = Network(layers, LOSSES["half-sse"])
    recs = [ev.record for ev in iterate(net, ArrayData(X, T), optimizer("sgd", 0.5), steps=2,
                                        batch_size=2)]
    assert all(isinstance(r.loss, float) for r in recs)
    assert recs[0].grads_W[0] is not recs[1].grads_W[0]
    assert recs[0].updates_W[1] is not recs[1].updates_W[1]


def _first_non_finite_step(cfg: MnistConfig) -> int:
    """The first step after which a weight or bias is not finite, found by checking the
    parameters after every step of the engine without the hot path's switches."""
    d = mdata.load_sample()
    net = build_network(cfg)
    batches = MnistBatches(d.train_images, d.train_labels)
    try:
        for ev in iterate(net, batches, make_optimizer(cfg), epochs=1, batch_size=cfg.batch_size,
                          rng=np.random.default_rng(cfg.seed + 1)):
            check_finite_parameters(net, ev.step)
    except TrainingDiverged as exc:
        return exc.step
    raise AssertionError("η = 50 did not diverge")


def test_eta_50_is_reported_as_divergence_within_one_window(run):
    """η = 50 on the default 784-128-64-10 network over the packaged 5,000 real digits: the run
    ends with one line naming the step range (one window of the summary observer: 512 samples,
    8 batches of 64) and the layer, exit 2; the range holds the first step whose parameters are
    not finite, found independently by checking after every step."""
    result = run("mnist", "--data", mdata.sample_dir(), "--lr", "50", "--schedule", "constant",
                 "--epochs", "1", "--quiet")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    found = re.search(r"diverged at steps (\d+)–(\d+): (\S+ or \S+|z|a) of layer (\d) \(", lines[0])
    assert found, lines[0]
    first, last = int(found[1]), int(found[2])
    window = SummaryObserver.PENDING_SAMPLES // 64
    assert last - first + 1 == window
    diverged = _first_non_finite_step(MnistConfig(lr=50, schedule="constant", epochs=1))
    assert first <= diverged <= last
    assert "try a smaller learning rate" in lines[0]


def test_plain_descent_without_gradients_forms_the_step_at_once():
    """Plain SGD with no one looking at ∂E/∂W (no per-layer statistics): the step (η/n δ)ᵀ a is
    formed directly, no gradient is kept, and the weights agree with the full steps' to float32
    rounding (η/n multiplies δ instead of ∂E/∂W)."""
    d = mdata.load_sample()
    batches = MnistBatches(d.train_images[:600], d.train_labels[:600])
    cfg = MnistConfig(layers=[784, 30, 10], activation="sigmoid", output="sigmoid",
                      loss="half-sse")
    nets = []
    for lean in (False, True):
        net = build_network(cfg)
        for ev in iterate(net, batches, optimizer("sgd", 3.0), steps=60, batch_size=10,
                          rng=np.random.default_rng(3), lean=lean, gradients=not lean):
            assert (ev.record.grads_W[0] is None) == lean
        nets.append(net)
    for full, lean, start in zip(*(n.layers for n in nets), build_network(cfg).layers):
        np.testing.assert_allclose(lean.W, full.W, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(lean.b, full.b, rtol=1e-4, atol=1e-5)
        assert np.abs(full.W - start.W).max() > 1e-3  # the steps moved the weights


@pytest.mark.parametrize("stats, window, where", [
    (True, None, "z of layer 1 (hidden 1)"), (False, None, "the loss at layer 3 (output)"),
    (True, 8, "z of layer 1 (hidden 1)"), (False, 8, "the loss at layer 3 (output)")])
def test_the_summary_observer_checks_the_loss_it_computes(stats, window, where):
    """The lean engine computes no loss; the summary observer does, once per window, and a
    loss that is not finite stops training there, naming its step (here the first: one weight
    is NaN from the start, and the engine's own parameter check is kept out of the way).  The
    first layer whose z is not finite is named when every layer's arrays are kept: with
    statistics (without, the engine's window keeps the output layer's only)."""
    d = mdata.load_sample()
    batches = MnistBatches(d.train_images[:1000], d.train_labels[:1000])
    net = build_network(MnistConfig())
    net.layers[0].W[3, 400] = np.nan
    observer = SummaryObserver(lambda s: None, d.test_images[:10], d.test_labels[:10], None,
                               stats)
    steps = []
    with pytest.raises(TrainingDiverged) as stopped:
        for ev in iterate(net, batches, make_optimizer(MnistConfig()), epochs=1, batch_size=64,
                          lean=True, check_every=10**6, gradients=stats, window=window,
                          window_output_only=not stats):
            steps.append(ev.step)
            observer.on_step(net, ev.record, ev.step, ev.epoch, ev.indices)
    assert steps[-1] == SummaryObserver.PENDING_SAMPLES // 64  # stopped at the first window
    assert str(stopped.value).startswith(f"training diverged at step 1: {where} is no longer")


@pytest.mark.parametrize("window, every", [(None, None), (51, None), (7, None), (51, 9)])
def test_a_window_of_steps_sums_to_numpy_statistics_of_its_raw_arrays(window, every):
    """The observer reduces a window of steps at once (PENDING_SAMPLES samples); its sums must
    be the sums NumPy gives over the same steps' z, a, δ and ∂E/∂W, copied out as each step is
    made (the engine reuses its gradient buffers and its window), computed here in float64 one
    step at a time.  With the engine's window (engine/window.py) of 51 steps (the observer's
    own) or 7, and without one; the smaller last batch of 5 has no room in a window.  With a
    summary every 9 batches the observer empties the window early (after 9, 18, … steps), and
    the epoch's sums are still the raw arrays'."""
    d = mdata.load_sample()
    batches = MnistBatches(d.train_images[:405], d.train_labels[:405])
    cfg = MnistConfig(layers=[784, 16, 12, 10])  # ReLU hidden layers: dead units are counted
    net = build_network(cfg)
    seen = []
    observer = SummaryObserver(seen.append, d.test_images[:20], d.test_labels[:20], every, True)
    raw = []
    for ev in iterate(net, batches, make_optimizer(cfg), epochs=1, batch_size=10, lean=True,
                      rng=np.random.default_rng(5), window=window):
        assert (ev.record.window is None) == (window is None or ev.step == 41)
        rec = ev.record
        raw.append([(z.astype(np.float64), a.astype(np.float64), dl.astype(np.float64),
                     np.linalg.norm(g.astype(np.float64)))
                    for z, a, dl, g in zip(rec.zs, rec.activations[1:], rec.deltas,
                                           rec.grads_W)])
        observer.on_step(net, rec, ev.step, ev.epoch, ev.indices)
    observer.on_epoch(net, 1)
    *windows, summary = seen
    assert len(windows) == (0 if every is None else 41 // every)
    assert len(raw) == 41 and summary.samples == 405 and summary.kind == "epoch"
    for l in range(len(net.layers)):
        z = np.concatenate([step[l][0] for step in raw])
        a = np.concatenate([step[l][1] for step in raw])
        delta = np.concatenate([step[l][2] for step in raw])
        dead = sum(int((step[l][1].sum(axis=0) == 0).sum()) for step in raw)
        want = {"n_values": z.size, "sum_z": z.sum(), "sumsq_z": (z * z).sum(),
                "sum_a": a.sum(), "sumsq_a": (a * a).sum(), "batches": 41,
                "sum_grad_norm": sum(step[l][3] for step in raw),
                "sum_delta_sq": (delta * delta).sum(), "samples": 405}
        if l < len(net.layers) - 1:
            want.update(inactive=dead, inactive_of=41 * z.shape[1])
        row = summary.stats[l]
        for name, value in want.items():
            got = row[FIELDS.index(name)]
            assert got == pytest.approx(value, rel=1e-4, abs=1e-4), (l, name)
        for k, part in enumerate(windows):  # each summary of 9 batches: its own steps' sums
            steps = raw[k * every:(k + 1) * every]
            a_part = np.concatenate([step[l][1] for step in steps])
            assert part.stats[l, FIELDS.index("sumsq_a")] == \
                pytest.approx((a_part * a_part).sum(), rel=1e-4), (k, l)
            assert part.stats[l, FIELDS.index("sum_grad_norm")] == \
                pytest.approx(sum(step[l][3] for step in steps), rel=1e-4), (k, l)


def _gradient_norm_sums(optimizer: str, norms: bool):
    """Σ‖∂E/∂W‖ per layer as the summary observer adds it up over one epoch of 305 samples of
    the packaged digits (30 batches of 10 in the engine's window, then a smaller one that has
    no room there), η changed before every step as a schedule would; and the same sums computed
    here in float64 from each step's raw δ and a, ‖(1/n) δᵀ a^(l−1)‖, which is how BP4 defines
    the gradient."""
    d = mdata.load_sample()
    batches = MnistBatches(d.train_images[:305], d.train_labels[:305])
    cfg = MnistConfig(layers=[784, 30, 10], activation="sigmoid", output="sigmoid",
                      loss="half-sse", optimizer=optimizer, batch_size=10, lr=3.0,
                      weight_decay=0.0 if optimizer == "sgd" else 1e-3)
    net, opt = build_network(cfg), make_optimizer(cfg)
    seen = []
    observer = SummaryObserver(seen.append, d.test_images[:20], d.test_labels[:20], None, True)
    want = np.zeros(len(net.layers))
    for ev in iterate(net, batches, opt, epochs=1, batch_size=10, lean=True, window=51,
                      gradients=False, rng=np.random.default_rng(2), norms=norms):
        rec = ev.record
        folded = optimizer == "sgd"
        assert (rec.grads_W[0] is None) == folded and (rec.eta is not None) == folded
        assert (rec.grad_norms is not None) == norms
        for l in range(len(net.layers)):
            delta = rec.deltas[l].astype(np.float64)
            a_prev = rec.activations[l].astype(np.float64)
            want[l] += np.linalg.norm(delta.T @ a_prev / len(delta))
        observer.on_step(net, rec, ev.step, ev.epoch, ev.indices)
        opt.lr = 3.0 * (1 - ev.step / 40)  # the next step's η
    observer.on_epoch(net, 1)
    (summary,) = seen
    assert summary.samples == 305 and summary.stats[0, FIELDS.index("batches")] == 31
    return summary.stats[:, FIELDS.index("sum_grad_norm")], want


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_the_gradient_norms_are_those_of_bp4(optimizer):
    """Plain SGD forms its step at once (no ∂E/∂W is kept) and ‖∂E/∂W‖ is taken as ‖ΔW‖/η of
    that step's η; momentum with weight decay keeps ∂E/∂W in the workspace.  Taken by the engine
    (`norms`: while the array is in the cache) or by the observer, the sums are the same to the
    last bit, and they equal the float64 sums of BP4's gradient."""
    by_engine, want = _gradient_norm_sums(optimizer, True)
    by_observer, _ = _gradient_norm_sums(optimizer, False)
    np.testing.assert_array_equal(by_engine, by_observer)
    np.testing.assert_allclose(by_engine, want, rtol=1e-5)
    assert want.min() > 0.1  # not vacuous: the gradients are there to be measured


def test_training_with_statistics_has_the_engine_take_the_norms(monkeypatch):
    """`tracenn mnist` with per-layer statistics asks the engine for the norms (the faster
    place), and without them for none."""
    seen = []
    on_step = SummaryObserver.on_step

    def spy(self, net, rec, step, epoch, idx):
        seen.append((self.layer_stats, rec.grad_norms is not None))
        on_step(self, net, rec, step, epoch, idx)

    monkeypatch.setattr(SummaryObserver, "on_step", spy)
    sample = mdata.load_sample()
    for stats in (True, False):
        run(sample, MnistConfig(epochs=1, limit=200), layer_stats=stats, start_summary=False)
    assert seen and all(stats == took for stats, took in seen)
    assert {stats for stats, _ in seen} == {True, False}


@pytest.mark.parametrize("layers, activation, output, loss", [
    ([784, 16, 12, 10], "relu", "softmax", "cross-entropy"),
    ([784, 30, 10], "sigmoid", "sigmoid", "half-sse"),
    ([784, 8, 10], "tanh", "identity", "mse")])
def test_the_window_changes_where_arrays_are_written_not_the_numbers(layers, activation,
                                                                      output, loss):
    """Writing z, a and δ into the engine's window (out= its slots) makes the same numbers as
    new arrays: 31 steps (the last a smaller batch, which has no room in the window) end in
    bit-identical weights with and without a window (of every layer, or of the output layer
    only), and each step's z, a and δ are equal."""
    d = mdata.load_sample()
    batches = MnistBatches(d.train_images[:610], d.train_labels[:610])
    cfg = MnistConfig(layers=layers, activation=activation, output=output, loss=loss)
    runs = []
    for window, output_only in ((None, False), (5, False), (5, True)):
        net = build_network(cfg)
        arrays = []
        for ev in iterate(net, batches, make_optimizer(cfg), epochs=1, batch_size=20,
                          rng=np.random.default_rng(4), lean=True, window=window,
                          window_output_only=output_only):
            rec = ev.record
            arrays.append([x.copy() for x in rec.zs + rec.activations + rec.deltas])
            if rec.window is not None and rec.window.full:
                rec.window.clear()  # as the summary observer does when it has read them
        runs.append((net, arrays))
    (net0, arrays0), *windowed = runs
    assert len(arrays0) == 31
    for net1, arrays1 in windowed:
        for step0, step1 in zip(arrays0, arrays1):
            for x0, x1 in zip(step0, step1):
                np.testing.assert_array_equal(x0, x1)
        for l0, l1 in zip(net0.layers, net1.layers):
            np.testing.assert_array_equal(l0.W, l1.W)
            np.testing.assert_array_equal(l0.b, l1.b)


N_SPARSE = 1103  # packaged digits: at each batch size below, a window fills twice an epoch


class _Poisoned(MnistBatches):
    """The packaged digits with one pixel of the batch of step `at` (counted over the run) made
    infinite: that step's z, and so its loss, is not finite."""

    def __init__(self, images, labels, at):
        super().__init__(images, labels)
        self.at, self.made = at, 0

    def batches(self, order, batch_size):
        for idx, x, t in super().batches(order, batch_size):
            self.made += 1
            if self.made == self.at:
                x = x.copy()
                x[0, 0] = np.inf
            yield idx, x, t


def _summaries(sparse: bool, batch: int, every, stats: bool, norms: bool, optimizer: str,
               window=None, stop_at=None, poison_at=None, **options):
    """Two epochs of N_SPARSE packaged digits summarised by the summary observer, with a
    progress observer counting samples, every step shown or (`sparse`) only those the engine
    shows (window: the engine's, default the observer's own size; stop_at: should_stop() is
    true from that step on, as after Ctrl-C; poison_at: that step's input has an ∞).  Returns
    the summaries (an interrupted epoch's last, as Training ends it; `options` go to iterate)
    and the samples the progress
    observer counted per epoch, the steps shown and made, and per epoch Σ cross-entropy and
    Σ correct computed here from the steps shown."""
    d = mdata.load_sample()
    batches = _Poisoned(d.train_images[:N_SPARSE], d.train_labels[:N_SPARSE], poison_at)
    cfg = MnistConfig(layers=[784, 16, 12, 10], optimizer=optimizer, batch_size=batch)
    net, opt = build_network(cfg), make_optimizer(cfg)
    seen, samples, shown = [], [], [0]
    observer = SummaryObserver(seen.append, d.test_images[:30], d.test_labels[:30], every, stats)
    progress = _Progress(lambda epoch, n: samples.append((epoch, n)))
    stop = (lambda: False) if stop_at is None else (lambda: opt.t >= stop_at)
    events = iterate(net, batches, opt, epochs=2, batch_size=batch, lean=True,
                     rng=np.random.default_rng(3), window=window or _room(batch),
                     check_every=_window(batch), gradients=False, window_output_only=not stats, norms=norms, sparse=sparse,
                     show_every=every, should_stop=stop, **options)
    by_hand = np.zeros((3, 2))  # per epoch: Σ cross-entropy and Σ correct, from each step shown
    for ev in observed(net, events, [observer, progress], stop):
        shown[0] += 1
        a, t = ev.record.activations[-1].astype(np.float64), ev.record.t
        by_hand[ev.epoch] += (-(t * np.log(np.maximum(a, 1e-300))).sum(),
                              (a.argmax(axis=1) == t.argmax(axis=1)).sum())
    if stop_at is not None or options.get("steps"):
        observer.finish_partial(net)
    totals = [sum(n for e, n in samples if e == epoch) for epoch in (1, 2)]
    return seen, totals, (shown[0], opt.t), by_hand


def _same_summaries(full, sparse, stats: bool):
    assert [(s.kind, s.epoch, s.batch) for s in sparse] == [(s.kind, s.epoch, s.batch) for s in full]
    for a, b in zip(full, sparse):
        assert (a.samples, a.sum_loss, a.correct, a.test_accuracy) == \
            (b.samples, b.sum_loss, b.correct, b.test_accuracy)
        assert (a.weight_norms, a.update_norms) == (b.weight_norms, b.update_norms)
        if stats:
            np.testing.assert_array_equal(a.stats, b.stats)
        else:
            assert a.stats is None and b.stats is None


@pytest.mark.parametrize("batch, every, stats, norms, optimizer, window", [
    (10, None, True, True, "sgd", None), (10, 9, True, True, "momentum", None),
    (7, 13, True, True, "sgd", None), (7, None, False, False, "adam", None),
    (64, 3, True, True, "momentum", None), (1, 100, True, True, "sgd", None),
    (10, None, True, True, "sgd", 5), (10, 4, False, False, "sgd", 6)])
def test_a_sparse_run_summarises_what_a_run_showing_every_step_does(batch, every, stats, norms,
                                                                     optimizer, window):
    """A sparse run (iterate's `sparse`) shows the observers a step only when it fills the
    engine's window, ends a multiple of `every` batches or is one of its epoch's last two; the
    observer reads the others' targets and ‖∂E/∂W‖ from the window.  Every summary is the same
    to the last bit as with every step shown (windows filled mid-epoch, the smaller last batch,
    summaries every `every` batches, ‖∂E/∂W‖ taken by the engine or by the observer), the
    progress observer counts every sample of each epoch, and far fewer steps are shown."""
    full, totals_full, (shown_full, steps), by_hand = _summaries(
        False, batch, every, stats, norms, optimizer, window)
    sparse, totals, (shown, _), _ = _summaries(True, batch, every, stats, norms, optimizer,
                                               window)
    per_epoch = -(-N_SPARSE // batch)
    assert steps == 2 * per_epoch and shown_full == steps
    assert totals_full == totals == [N_SPARSE, N_SPARSE]
    for s in full:  # the loss and the accuracy of each epoch, against the sums made here
        if s.kind == "epoch":
            assert s.sum_loss == pytest.approx(by_hand[s.epoch, 0], rel=1e-5)
            assert s.correct == by_hand[s.epoch, 1]
    k = window or _room(batch)
    assert per_epoch // k >= 2  # windows fill within an epoch
    assert shown <= 2 * (per_epoch // k + 2 + (per_epoch // every if every else 0))
    assert len(full) == 2 + (2 * (per_epoch // every) if every else 0)
    _same_summaries(full, sparse, stats)


@pytest.mark.parametrize("batch, stop_at", [(10, 75), (10, 111), (7, 160), (64, 20)])
def test_a_sparse_run_stops_after_the_step_it_was_asked_to(batch, stop_at):
    """Ctrl-C: should_stop() is asked after every step, shown or not, so a sparse run stops
    right after the step at which it becomes true, as a run showing every step does, and the
    interrupted epoch's summary is the same."""
    full, _, (_, made_full), _ = _summaries(False, batch, None, True, True, "momentum",
                                            stop_at=stop_at)
    sparse, _, (_, made), _ = _summaries(True, batch, None, True, True, "momentum",
                                         stop_at=stop_at)
    assert made == made_full == stop_at
    assert full[-1].kind == "partial" or (full[-1].kind == "epoch" and
                                          stop_at == -(-N_SPARSE // batch))
    _same_summaries(full, sparse, True)


@pytest.mark.parametrize("options", [dict(steps=75), dict(steps=102), dict(steps=150),
                                     dict(detail=lambda step: step in (20, 70))])
def test_a_sparse_run_ends_where_asked_and_keeps_detailed_steps(options):
    """With `steps` the run's last step is shown (its last two are), so it ends there; with
    `detail` (steps kept whole, outside any window) nothing is hidden, since a step with no
    slot between hidden ones would be summarised out of order."""
    full, _, (_, made_full), _ = _summaries(False, 10, None, True, True, "sgd", **options)
    sparse, _, (shown, made), _ = _summaries(True, 10, None, True, True, "sgd", **options)
    assert made == made_full == options.get("steps", 2 * -(-N_SPARSE // 10))
    if "detail" in options:
        assert shown == made
    _same_summaries(full, sparse, True)


@pytest.mark.parametrize("batch, at", [(10, 7), (10, 51), (10, 52), (10, 100), (7, 150)])
def test_a_sparse_run_names_the_step_that_diverged(batch, at):
    """A step whose input holds an ∞ makes its loss and the weights it updates infinite; the
    engine's check of the parameters (or the observer's of the loss, when it reads the window)
    names the same steps and layer in a sparse run as in one showing every step: a range of
    at most one window that holds the step."""
    messages = []
    for sparse in (False, True):
        with pytest.raises(TrainingDiverged) as caught:
            _summaries(sparse, batch, None, True, True, "sgd", poison_at=at)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    found = re.search(r"\bsteps? (\d+)(?:–(\d+))?", messages[1])
    first, last = int(found[1]), int(found[2] or found[1])
    assert first <= at <= last and last - first < _window(batch), messages[1]


def test_training_runs_sparse_unless_an_observer_needs_every_step(monkeypatch):
    """Training shows its summary observer one step per window with a constant η, and every
    step with the cosine schedule, whose observer sets η before each step."""
    shown = []
    original = SummaryObserver.on_step

    def counted(self, *args):
        shown.append(args[2])
        return original(self, *args)

    monkeypatch.setattr(SummaryObserver, "on_step", counted)
    d = mdata.load_sample().limit(1020)
    for schedule in ("constant", "cosine"):
        shown.clear()
        run(d, MnistConfig(layers=[784, 8, 10], batch_size=10, epochs=1, schedule=schedule),
            layer_stats=True, start_summary=False)
        assert shown == ([51, 101, 102] if schedule == "constant" else list(range(1, 103)))


def test_a_sparse_run_with_statistics_needs_the_engine_to_take_the_norms():
    """The observer cannot take ‖∂E/∂W‖ of steps it is not shown (the gradient buffers are the
    next step's by then): a sparse run with per-layer statistics but without `norms` is refused
    when the first window is read, not summarised with norms missing."""
    with pytest.raises(ValueError, match="norms"):
        _summaries(True, 10, None, True, False, "sgd")
