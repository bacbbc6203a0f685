"""The public API: what the command line does, as functions that take a spec and return records.

Every function accepts a spec as a `Spec` (from `load`) or as anything `load` takes: a preset
name ("mazur", "xor", "softmax"), a path to a TOML file, or TOML text.  Tracing never changes
the spec: each call trains a fresh copy of its network.  Errors are `TracennError`s (SpecError,
ValuesError, DataError, TrainingDiverged, OptionError, UnsupportedError), each with a one-line
message.

Tracing options, shared by trace, iter_trace, step, verify, compare and walkthrough:
  lr            the learning rate η (default: the spec's)
  mistakes      names of catalogued mistakes to switch on (see MISTAKES); not for verify,
                compare and walkthrough, which are about the right numbers
  update_biases update every bias, even those the spec freezes
  optimizer, momentum, beta1, beta2, epsilon, alpha, weight_decay
                the optimizer and its hyper-parameters (default: the spec's [training])

Conventions: layers are numbered 1..L after the input (layer 0); `W[j][k]` connects input k to
neuron j; arrays hold samples in rows.  Quantities are named as the spec names them (Mazur's
net_h1, out_h1, delta_o1, E_total, w5) or by index (z2[1], a2[1], delta2[1], W2[1,2]); see
`Step.__getitem__`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .circuits import graph  # noqa: F401  (tracenn.graph: a circuit, gate by gate; loads lazily)
from .engine.optim import SETTINGS
from .errors import OptionError
from .maths import VERIFY_MAX_PARAMETERS, VERIFY_MAX_SIZE, check_verify_limit
from .notation import PICTURE_PRECISION
from .record.trace import Run, Step, StepSummary
from .runs import FULL, XorRun, iter_trace as _iter_trace, own_run_note, show_policy, \
    train_xor, trace_one_step, xor_curve_every
from .spec import PRESETS, Spec, load_preset, load_spec, parse_spec

OPTIMIZER_OPTIONS = SETTINGS


def load(source: str | Path | Spec, *, seed: int | None = None) -> Spec:
    """A spec from a preset name (mazur, xor, softmax), a path to a TOML file, or TOML text.
    `seed` replaces the spec's seed for layers it initialises at random.  Raises SpecError."""
    if isinstance(source, Spec):
        if seed is not None:
            raise OptionError(f"seed={seed} cannot reseed a spec already loaded (from "
                              f"{source.source}); give the seed when loading it: "
                              "tracenn.load(source, seed=…)")
        return source
    text = str(source)
    if isinstance(source, str) and text not in PRESETS and ("\n" in text or "[network]" in text):
        return parse_spec(text, "spec text", seed=seed)
    return load_spec(source, seed=seed)


def _prepare(spec, seed=None, update_biases: bool = False) -> Spec:
    spec = load(spec, seed=seed)
    return spec.with_biases_trained() if update_biases else spec


# verify, compare and walkthrough show the right numbers of a step: they take no mistakes
RIGHT_NUMBERS_ONLY = {"verify": "checks", "compare": "compares your numbers with",
                      "walkthrough": "explains"}


def _optimizer_options(options: dict, function: str = "") -> dict:
    unknown = set(options) - set(OPTIMIZER_OPTIONS)
    if "mistakes" in unknown and function in RIGHT_NUMBERS_ONLY:
        raise OptionError(
            f"{function}() takes no mistakes: it {RIGHT_NUMBERS_ONLY[function]} the right numbers "
            "of the step; tracenn.trace(spec, mistakes=[…]) and tracenn.step(…) show what a "
            "mistake computes, and tracenn.compare(spec, values) names the mistakes a learner's "
            "numbers match")
    if unknown:
        mistakes = "" if function in RIGHT_NUMBERS_ONLY else "mistakes, "
        raise OptionError(f"unknown option(s) {', '.join(sorted(unknown))}; the tracing options "
                          f"are lr, {mistakes}update_biases, seed and "
                          f"{', '.join(OPTIMIZER_OPTIONS)}")
    return {k: v for k, v in options.items() if v is not None}


def iter_trace(spec, steps: int | None = None, *, every: int | None = None, lr: float | None = None,
               mistakes=(), update_biases: bool = False, seed: int | None = None,
               progress=None, **optimizer) -> Iterator[Step | StepSummary]:
    """Train and yield each shown step as soon as it is computed, keeping none (memory stays
    flat).  `steps` defaults to the spec's (its epochs times the steps per epoch when it gives
    epochs).  With `every` = K, every K-th step is a full `Step` and step 1 and the last, when
    not multiples of K, are one-line `StepSummary`s; without it, every step is full.
    `progress(step)` is called after every step."""
    spec = _prepare(spec, seed, update_biases)
    steps = spec.total_steps if steps is None else steps
    show = show_policy(steps, every) if every is not None else (lambda step: FULL)
    return _iter_trace(spec, steps=steps, show=show, lr=lr, mistakes=mistakes, progress=progress,
                       **_optimizer_options(optimizer))


def trace(spec, steps: int | None = None, **options) -> Run:
    """Train and return the run: `run.steps` are the full steps (`Step`), each with every
    quantity by display name (`run.steps[0]["delta_o1"]`) and by layer
    (`run.steps[0].layers[1].delta`, shape (n_samples, n_neurons)); `run.to_json()` gives the
    JSON Lines objects.  Options as iter_trace's."""
    update_biases = options.pop("update_biases", False)
    spec = _prepare(spec, options.pop("seed", None), update_biases)
    note = own_run_note(spec, update_biases=update_biases,
                        **{k: v for k, v in options.items() if k not in ("every", "progress")})
    return Run(spec.labels, list(iter_trace(spec, steps, **options)), spec.title, note)


def step(spec, step: int = 1, *, lr: float | None = None, mistakes=(), update_biases: bool = False,
         seed: int | None = None, **optimizer) -> Step:
    """Step `step` of training (counting updates from 1), recorded in full."""
    spec = _prepare(spec, seed, update_biases)
    return trace_one_step(spec, step, lr=lr, mistakes=mistakes, **_optimizer_options(optimizer))


def verify(spec, step: int = 1, *, tolerance: float = 1e-6, dps: int | None = None,
           lr: float | None = None, update_biases: bool = False, seed: int | None = None,
           max_parameters: int | None = VERIFY_MAX_PARAMETERS,
           max_size: int | None = VERIFY_MAX_SIZE, progress=None, **optimizer):
    """Check step `step` three independent ways (SymPy's derivative of the loss expression,
    the engine's backprop, a central difference) and the identities of the formulas the
    network uses; with `dps`, recompute the step with that many significant digits.  Returns a
    `Verification` (`.ok`, `.gradients`, `.identities`, `.precision`).  A network with more
    than `max_parameters` parameters, or whose loss written out in one parameter has more than
    `max_size` operations, raises UnsupportedError before any differentiation (None: no
    limit); `progress(stage, done, total)`, if given, is called as the work goes on.  Imports
    SymPy."""
    spec = _prepare(spec, seed, update_biases)
    check_verify_limit(spec.labels, max_parameters)  # before SymPy is even imported
    from .maths.verify import verify_step

    options = _optimizer_options(optimizer, "verify")
    traced = trace_one_step(spec, step, lr=lr, **options)
    return verify_step(traced, spec.network.loss, tolerance=tolerance, dps=dps,
                       max_parameters=max_parameters, max_size=max_size, progress=progress)


def compare(spec, values, step: int = 1, *, tolerance: float | None = None, precision: int = 9,
            lr: float | None = None, update_biases: bool = False, seed: int | None = None,
            **optimizer):
    """A learner's numbers against the right ones: `values` is a dict {name: value}, a path to
    a file (tracenn's JSON Lines trace, a flat JSON object or CSV name,value rows), a `Run` or a
    `Step`.  Returns a `Comparison`: `.ok`, `.first` (the first wrong number with its formula
    and which of its inputs were right), `.follows` (later values right given the learner's own
    earlier numbers), `.convention` (the (t − o) sign convention, when the deltas are all −δ)
    and `.mistakes` (catalogued mistakes the numbers match).  `tolerance`: None, each value as
    precise as it is written (0.68 means ± 0.005; at least 1e-8 relative to max(1, |right|)),
    or one number for every value, relative to max(1, |right|).  Imports SymPy."""
    from .comparison import compare_values

    spec = _prepare(spec, seed, update_biases)
    return compare_values(spec, values, step, tolerance=tolerance, precision=precision, lr=lr,
                          **_optimizer_options(optimizer, "compare"))


def walkthrough(spec, step: int = 1, *, steps: int | None = None, precision: int = 9,
                figures: dict[str, str] | None = None, lr: float | None = None,
                update_biases: bool = False, seed: int | None = None, **optimizer) -> str:
    """A Markdown document that walks through step `step` like a textbook page (with `steps`,
    through steps 1..steps one after the other).  `figures` maps "forward" and "backward" to
    the files of the pictures of the step explained (see `draw`), which the document embeds.
    Imports SymPy."""
    from .render.markdown import to_markdown
    from .textbook import collect, flags

    target = _name(spec)
    spec = _prepare(spec, seed, update_biases)
    options = {"lr": lr, **_optimizer_options(optimizer, "walkthrough")}
    w = collect(spec, target, step, steps=steps, **options)
    w.command = flags(step=step, steps=steps, update_biases=update_biases, seed=seed, **options)
    return to_markdown(w, precision, figures)


def _name(spec) -> str:
    """How a document names the spec it was made from: the preset or the path; "SPEC.toml"
    for TOML text (which has no name of its own)."""
    if isinstance(spec, Spec):
        name = spec.source.removeprefix("preset ")
        return "SPEC.toml" if name == "spec text" else name
    text = str(spec)
    return "SPEC.toml" if "\n" in text or "[network]" in text else text


def xor(*, seed: int | None = None, epochs: int | None = None, every: int | None = None,
        lr: float | None = None, batch: bool = False, mistakes=(), progress=None,
        **optimizer) -> XorRun:
    """Train the 2-2-1 XOR network: the first epoch in full (`.first_epoch`), the loss at
    intervals (`.curve`), the truth table and a verdict (solved, stuck or unfinished)."""
    spec = load_preset("xor", seed=seed)
    epochs = epochs or spec.epochs or 1
    return train_xor(spec, epochs=epochs, every=every or xor_curve_every(epochs), batch=batch,
                     lr=lr, mistakes=mistakes, progress=progress, **_optimizer_options(optimizer))


def draw(spec, step: int = 1, *, view: str = "forward", precision: int = PICTURE_PRECISION,
         sample: int = 1, steps: int | None = None, comparison=None, lr: float | None = None,
         mistakes=(), update_biases: bool = False, seed: int | None = None,
         **optimizer) -> str:
    """Step `step` of the trace drawn as SVG: inputs on the left, a column per layer, every
    weight on its edge.  `view` is forward (net and out on each neuron, each w, the error and
    E_total), backward (∂E/∂out and δ on each neuron, ∂E/∂w on each edge) or update (old → new
    on each edge); numbers at `precision` decimals (default 4).  The trace has `steps` steps
    (default: the spec's) and `step` must lie in it; `sample` (1..n) picks whose values a batch
    step shows.  With `comparison` (the result of `compare`), the step compare traced is drawn
    and the learner's first wrong number is marked, with the right value beside it.  A layer
    pair of more than 20 edges lists its edge labels under the picture; layers wider than 32
    are refused (UnsupportedError)."""
    from .pictures import drawing, warn_notes

    spec = _prepare(spec, seed, update_biases)
    picture = drawing(spec, step, view=view, precision=precision, sample=sample, steps=steps,
                      comparison=comparison, lr=lr, mistakes=mistakes,
                      **_optimizer_options(optimizer))
    warn_notes(picture.notes)
    return picture.svg


def decision_maps(spec, step: int | None = None, *, columns: int = 3, lr: float | None = None,
                  mistakes=(), update_biases: bool = False, seed: int | None = None,
                  **optimizer) -> str:
    """For a network with two inputs (xor): after update `step` (default: the spec's last), a
    heat map per hidden unit and per output of its activation over the input square, with the
    line where it switches (0.5 for a sigmoid), a colour bar and the training points, as SVG;
    `columns` panels to a row (1 for a phone)."""
    from .maps import decision_maps as maps_of
    from .pictures import check_step
    from .render.heatmap import render_maps

    spec = _prepare(spec, seed, update_biases)
    check_step(step or spec.total_steps, spec.total_steps)
    return render_maps(maps_of(spec, step, lr=lr, mistakes=mistakes,
                               **_optimizer_options(optimizer)), columns)


def html(spec, steps: int | None = None, *, every: int | None = None,
         precision: int = PICTURE_PRECISION, lr: float | None = None, mistakes=(),
         update_biases: bool = False, seed: int | None = None, progress=None,
         **optimizer) -> str:
    """A self-contained HTML page that plays `steps` training steps (default: the spec's): the
    picture of each step with its phases (forward, error, backward, update), its tables, the
    loss curve and, for two inputs, the output over the input plane (computed by the engine
    after each step).  The first, the last and every `every`-th epoch are kept in full, every
    sample of each (default: about 200 pictures in all); the page embeds the trace as JSON
    Lines in format 1.  Numbers at `precision` decimals (default 4).  `progress(step)` is called as training goes."""
    from .player import play
    from .render.html import player_html
    from .render.layout import check_size

    spec = _prepare(spec, seed, update_biases)
    check_size(spec.network.sizes)
    run = play(spec, steps or spec.total_steps, every=every, lr=lr, mistakes=mistakes,
               progress=progress, **_optimizer_options(optimizer))
    return player_html(run, precision)


def from_torch(model, inputs, targets, *, loss, lr: float | None = None, optimizer=None,
               source: str = "PyTorch model") -> Spec:
    """The spec of a PyTorch `nn.Sequential` of Linear layers and activations (Sigmoid, Tanh,
    ReLU, Identity; Softmax or LogSoftmax last) with its current weights — W[j][k] is the
    Linear's weight[j][k] — trained on (`inputs`, `targets`) with `loss` (nn.MSELoss(),
    nn.CrossEntropyLoss() on logits, nn.NLLLoss() after LogSoftmax, nn.BCELoss() after
    Sigmoid, nn.BCEWithLogitsLoss(), or a tracenn loss name) and `optimizer` (a torch.optim
    optimizer over the model's parameters, or None: gradient descent with η = `lr`).  Trace,
    verify, compare or walk through it like any spec.  Needs PyTorch; raises UnsupportedError
    for a module, loss or optimizer tracenn does not trace.  `source` names the model in
    messages."""
    from .bridges import require_torch

    require_torch()
    from .bridges.torch import from_torch as convert

    return convert(model, inputs, targets, loss=loss, lr=lr, optimizer=optimizer, source=source)


def check_torch(model, optimizer, loss_fn, inputs, targets, *, steps: int = 2, train_step=None,
                loss=None, means=None, double: bool = True, tolerance: float | None = None,
                precision: int = 9):
    """Run a learner's own PyTorch training step (`train_step(model, optimizer, loss_fn,
    inputs, targets)`, default zero_grad, forward, loss, backward, step) on copies of their
    model and optimizer, record with hooks what PyTorch computed (z, a, ∂L/∂z and ∂L/∂a, every
    .grad, the weights after the step), and compare it with tracenn's trace of the same steps.
    Returns a `TorchCheck`: `.ok`, `.step` and `.first` (the first difference, as `compare`
    reports it), `.mistakes` (catalogued mistakes its numbers match: summed-batch,
    gradient-accumulated, weight-decay-on-bias, …).  float64 by default (tolerance 1e-10);
    `double=False` keeps the model's dtype (float32: 1e-5).  Needs PyTorch and imports SymPy."""
    from .bridges import require_torch

    require_torch()
    from .bridges.torch_check import check_torch as check

    return check(model, optimizer, loss_fn, inputs, targets, steps=steps, train_step=train_step,
                 loss=loss, means=means, double=double, tolerance=tolerance, precision=precision)


def load_torch(path, *, activations=None):
    """A PyTorch model saved with torch.save, as an nn.Sequential: a whole module of torch.nn's
    own classes, or a state dict of Linear layers with `activations` naming the activation
    after each (tracenn's names: sigmoid, tanh, relu, identity; softmax or log-softmax last).
    Loaded with weights_only=True: a file that would need other code to unpickle is refused."""
    from .bridges import require_torch

    require_torch()
    from .bridges.torch_files import load_model

    return load_model(path, activations)


def exercise(spec, students: int | None = None, *, seed: int = 0, ask=None, decimals: int = 4,
             given_decimals: int = 2, weights=(0.10, 0.90), biases=(0.10, 0.90),
             inputs=(0.01, 0.99), targets=(0.01, 0.99), lr: float | None = None,
             update_biases: bool = False, output=None, progress=None, names=None):
    """An exercise for a class: `students` variants of the network, each with its weights,
    biases, inputs and targets drawn (with `given_decimals` decimals) from the ranges given as
    (low, high), degenerate variants drawn again.  `ask`: what the worksheets ask, groups
    (forward, error, output-deltas, hidden-deltas, input-gradients, gradients, updates,
    error-after) and quantity names, as a list or a comma-separated text (default: a full
    step); answers to `decimals` decimals.  `names`: the students' real names, for roster.csv
    (`students` defaults to their number, else 1).  With `output`, writes the exercise's folder (which
    must be new or empty): per student a hand-out student-NN/ (worksheet.md, worksheet.tex,
    network.svg, answers.csv: no answer in it), and key/student-NN.md with the variant
    key/student-NN.toml, roster.csv, exercise.json.  `progress(done, total)` is
    called as the students' files are made.  Returns the `Exercise` (`.students`, `.asked`, and `.files()`,
    each file's text by path).  Imports SymPy."""
    from .exercises.asking import FULL_STEP, split_ask
    from .exercises.generate import make_exercise
    from .files import write_folder
    from .exercises.variants import Ranges

    target = spec.source.removeprefix("preset ") if isinstance(spec, Spec) else str(spec)
    spec = _prepare(spec, None, update_biases)
    if lr is not None:
        spec = spec.copy()
        spec.training.learning_rate = float(lr)
    items = FULL_STEP if ask is None else split_ask(ask) if isinstance(ask, str) else list(ask)
    ranges = Ranges(tuple(weights), tuple(biases), tuple(inputs), tuple(targets), given_decimals)
    names = list(names or [])
    if students is None:
        students = len(names) or 1
    if names and len(names) != students:
        raise OptionError(f"--names: {len(names)} name(s) for {students} student(s); give one "
                          "name a line for each student, or leave out --students")
    made = make_exercise(spec, Path(target).name if target.endswith(".toml") else target,
                         students, seed, items, decimals, ranges)
    made.names = names
    if output is not None:
        write_folder(made.files(progress), output)
    return made


def grade(directory, *, decimals: int | None = None, relative: float | None = None,
          returned=None, progress=None):
    """Grade the exercise in `directory` (written by `exercise`): every student-NN/answers.csv
    against that student's variant.  A value is right within half a unit of decimal `decimals`
    (default: the worksheet's) of the right one, or of what its formula gives from the
    student's own rounded numbers (or within `relative` of it, when given); a wrong value that is
    what its formula gives from the student's own earlier numbers "follows from an earlier
    error" and gets credit.  `returned`: a flat folder of the answer files, each named by its
    student's id (student-03.csv) or real name in roster.csv, instead of student-NN/answers.csv.
    Files that are missing or cannot be read, that name another student in their `student`
    row, or whose numbers fit another student's variant better are reported for their
    student.  Returns `ClassGrades` (`.students`, `.summary()`, `.to_json()`).  Raises
    ValuesError only when `directory` is not an exercise's folder.  Imports SymPy."""
    from .exercises.grade import grade_directory

    return grade_directory(str(directory), decimals=decimals, relative=relative,
                           returned=None if returned is None else str(returned),
                           progress=progress)


def check_arrays(spec, step: int = 1, *, tolerance: float | None = None, **arrays):
    """A learner's own NumPy arrays of one step — course names (Z1, A1, dZ1, dW1, db1, W1, b1),
    Nielsen's (zs, activations, deltas, nabla_w, nabla_b) or tracenn's (z, a, delta, grad_W,
    grad_b, W_new, b_new) — in their own layout (found from the shapes) against tracenn's trace
    of step `step`.  Returns a CheckReport (`.ok`, `.first`, `.mistakes`; print it)."""
    from .comparison.checking import check_arrays as check

    return check(load(spec), step, tolerance=tolerance, **arrays)


def checker(spec, *, tolerance: float | None = None, lr: float | None = None, **optimizer):
    """A checker for a learner's training loop: call `.step(Z1=Z1, …)` once per step (any
    subset of the arrays, any steps), then `.report()`: the first step and number that go
    wrong, the mistake it matches, whether later steps follow from it."""
    from .comparison.checking import Checker

    return Checker(load(spec), tolerance=tolerance, lr=lr, **optimizer)


def from_arrays(weights, biases, *, activations, loss: str, inputs, targets, lr: float = 0.1,
                mode: str = "batch", steps: int = 1, optimizer: str = "sgd") -> Spec:
    """The spec of a learner's NumPy network: `weights`, `biases` one array per layer in their
    own layout (W as n_out×n_in or n_in×n_out, b flat or a column: found from the shapes),
    `inputs`, `targets` with samples in rows or columns.  `spec.source` says how it was read."""
    from .spec.arrays import from_arrays as build

    return build(weights, biases, activations=activations, loss=loss, inputs=inputs,
                 targets=targets, lr=lr, mode=mode, steps=steps, optimizer=optimizer)
