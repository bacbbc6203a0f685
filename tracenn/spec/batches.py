"""Reading the mini-batch keys of [training]: `batch_size` with `shuffle` and `seed`, the
learner's own per-epoch permutations `order`, or the learner's own `batches`.  Every failure
names the key, what was wrong and what is allowed."""

from __future__ import annotations

import numpy as np


def read_mini_batch(checks, training: dict, out, N: int) -> None:
    """The mini-batch keys of `training` into `out` (a Training) for a data set of N samples;
    they are refused in any mode but "mini-batch", where either batch_size or batches is
    required.  `order` and `batches` may name an .npy file beside the spec (a learner's
    per-epoch permutations saved with np.save, one row per epoch)."""
    training = {k: (checks.array_file(v, f"training.{k}") if k in ("order", "batches")
                    and isinstance(v, str) else v) for k, v in training.items()}
    given = [k for k in ("batch_size", "shuffle", "seed", "batches", "order") if k in training]
    if out.mode != "mini-batch":
        if given:
            checks.fail(f"training.{given[0]}", f"used only with mode = \"mini-batch\" (this "
                        f"spec's mode is {out.mode!r})")
        return
    if "batches" in training:
        for key in ("batch_size", "shuffle", "seed", "order"):
            if key in training:
                checks.fail(f"training.{key}", "give either batches (the learner's own batches) "
                            "or batch_size with shuffle/seed/order, not both")
        out.batches = read_batches(checks, training["batches"], N)
        return
    if "batch_size" not in training:
        checks.fail("training.batch_size", "mode = \"mini-batch\" needs batch_size (samples per "
                    "update) or batches (the learner's own lists of sample indices)")
    out.batch_size = checks.integer(training["batch_size"], "training.batch_size", 1)
    if out.batch_size > N:
        checks.fail("training.batch_size", f"expected a whole number from 1 to {N} (the number "
                    f"of samples), got {out.batch_size}")
    out.shuffle = checks.boolean(training.get("shuffle", False), "training.shuffle")
    out.seed = checks.integer(training.get("seed", 0), "training.seed", 0)
    if "order" in training:
        if out.shuffle:
            checks.fail("training.order", "give shuffle = true (tracenn draws the order) or "
                        "order (the learner's own), not both")
        out.order = read_orders(checks, training["order"], N)
        per_epoch = -(-N // out.batch_size)
        if out.epochs is not None and out.epochs > len(out.order):
            checks.fail("training.order", f"epochs = {out.epochs} needs {out.epochs} "
                        f"permutation(s), got {len(out.order)}")
        if out.steps is not None and out.steps > len(out.order) * per_epoch:
            checks.fail("training.order", f"steps = {out.steps} needs "
                        f"{-(-out.steps // per_epoch)} permutation(s) of {per_epoch} step(s) "
                        f"each, got {len(out.order)}")


def _indices(checks, value, key: str, N: int) -> list[int]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list) or not value:
        checks.fail(key, f"expected a non-empty list of sample indices (0 to {N - 1})")
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < N:
            checks.fail(f"{key}[{i}]", f"expected a sample index, a whole number from 0 to "
                        f"{N - 1} (counted from 0, as in NumPy), got {v!r}")
    return [int(v) for v in value]


def _outer(checks, value, key: str, what: str) -> list:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (list, np.ndarray)) for v in value):
        checks.fail(key, f"expected a list of {what}")
    return value


def read_batches(checks, value, N: int) -> list[list[int]]:
    """The learner's batches: lists of sample indices that together take every sample once."""
    batches = [_indices(checks, b, f"training.batches[{i}]", N)
               for i, b in enumerate(_outer(checks, value, "training.batches",
                                            "batches (lists of sample indices)"))]
    seen: dict[int, int] = {}
    for i, b in enumerate(batches):
        for v in b:
            if v in seen:
                checks.fail(f"training.batches[{i}]", f"sample {v} is already in batch "
                            f"{seen[v]}; each sample belongs to one batch")
            seen[v] = i
    missing = sorted(set(range(N)) - set(seen))
    if missing:
        checks.fail("training.batches", f"sample(s) {', '.join(map(str, missing[:5]))} in no "
                    f"batch; the batches must take each of the {N} samples once")
    return batches


def read_orders(checks, value, N: int) -> list[list[int]]:
    """The learner's per-epoch orders: each a permutation of the N sample indices (a single
    permutation, as a flat list or a 1-d array, is one epoch's)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = [value]
    orders = _outer(checks, value, "training.order", "per-epoch orders (permutations of the "
                    f"{N} sample indices)")
    out = []
    for e, o in enumerate(orders):
        key = f"training.order[{e}]"
        o = _indices(checks, o, key, N)
        if len(o) != N or len(set(o)) != N:
            dup = [v for v in set(o) if o.count(v) > 1]
            why = f"sample {dup[0]} comes twice" if dup else f"it has {len(o)} index(es)"
            checks.fail(key, f"expected a permutation of the {N} sample indices 0 to {N - 1} "
                        f"(each once); {why}")
        out.append(o)
    return out
