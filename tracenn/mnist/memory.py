"""How much memory an MNIST run needs, and whether this machine has it, so that a network too
large to train is refused before anything is allocated (with the estimate), not by a
MemoryError or the kernel's out-of-memory killer halfway through."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UnsupportedError

# Parameter-sized float32 arrays alive at once while training, beyond W itself: the gradient,
# the step the optimizer returns and its state (velocity; v; m and v), plus its temporaries.
# The start summary's copy of the network adds W, gradient and step again, which is the peak for
# sgd and momentum.
COPIES = {"sgd": 4, "momentum": 4, "nesterov": 5, "rmsprop": 6, "adam": 8, "adamw": 8}
PER_UNIT = 6  # float32 arrays a layer keeps per sample and unit: z, a, δ, ∂E/∂a, ∂a/∂z, one more


def chunk_samples(layers: list[int], budget: int = 16 << 20) -> int:
    """Samples per chunk of a large batch: as many as keep a chunk's arrays (its inputs, and
    PER_UNIT arrays per unit) within `budget` bytes, and at least 256."""
    per_sample = 4 * (layers[0] + PER_UNIT * sum(layers[1:]))
    return max(256, budget // per_sample)


def estimate(layers: list[int], optimizer: str, batch_size: int, n_images: int = 0) -> int:
    """Bytes a run needs at least: its float32 parameters with their copies (COPIES), the
    arrays of one batch or chunk, and the images as bytes (785 per image with its label)."""
    params = sum((n_in + 1) * n_out for n_in, n_out in zip(layers, layers[1:]))
    rows = min(batch_size, chunk_samples(layers))
    activations = 4 * rows * (layers[0] + PER_UNIT * sum(layers[1:]))
    return 4 * params * (1 + COPIES.get(optimizer, 8)) + activations + 785 * n_images


def available() -> int | None:
    """Bytes this process can still use: the kernel's MemAvailable, or less if a cgroup (a
    container) limits memory; None where neither can be read."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    if not found and hasattr(os, "sysconf"):
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            pass
    return min(found) if found else None


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return ""


def check(layers: list[int], optimizer: str, batch_size: int, n_images: int = 0,
          have: int | None = None) -> None:
    """Raise UnsupportedError if the run cannot fit in the memory available (`have`, default:
    what `available` finds)."""
    need = estimate(layers, optimizer, batch_size, n_images)
    have = available() if have is None else have
    if have is None or need <= have:
        return
    params = sum((n_in + 1) * n_out for n_in, n_out in zip(layers, layers[1:]))
    raise UnsupportedError(
        f"the network {'-'.join(map(str, layers))} cannot be trained here: its {params:,} "
        f"weights and biases take {size_text(4 * params)} as float32, and training them with "
        f"{optimizer} needs about {size_text(need)} (gradients, updates, optimizer state and a "
        f"batch's activations), more than the {size_text(have)} of memory available; choose "
        "smaller layers")
