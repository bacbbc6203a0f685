"""Arrays in a spec that are not written out as text: a wide layer's weights in an .npy file
beside the TOML (`weights = "w1.npy"`), the data in an .npz (`[data] file = "data.npz"`), or
NumPy arrays handed in directly (from_arrays) — each checked as the numbers of a TOML list are."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_NAMES = {"inputs": ("inputs", "X"), "targets": ("targets", "T", "Y")}  # in [data] file


class ArrayFiles:
    """The spec reader's checks of arrays; `fail` and `source` come from the reader."""

    def array_file(self, name: str, key: str, member: str | None = None) -> np.ndarray:
        """An .npy file (or one array of an .npz), relative to the spec's own folder."""
        base = Path(self.source).parent if Path(self.source).is_file() else Path.cwd()
        path = base / name
        try:
            loaded = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            self.fail(key, f"no such array file: {path}")
        except (OSError, ValueError) as exc:
            self.fail(key, f"{path} is no .npy or .npz array file: {exc}")
        if member is None:
            if not isinstance(loaded, np.ndarray):
                self.fail(key, f"{path} holds several arrays; give an .npy file")
            return loaded
        for candidate in DATA_NAMES[member]:
            if candidate in loaded.files:
                return loaded[candidate]
        self.fail(key, f"{path} holds no {' or '.join(DATA_NAMES[member])} array "
                  f"(it has {', '.join(loaded.files)})")

    def checked_array(self, value: np.ndarray, key: str, rows, cols: int, what: str) -> np.ndarray:
        if value.ndim != 2 or value.shape[1] != cols or rows is not None and value.shape[0] != rows:
            self.fail(key, f"expected shape ({rows if rows is not None else 'n'}, {cols}) "
                      f"({what}), got {value.shape}")
        if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
            self.fail(key, "expected finite numbers")
        return np.array(value, dtype=np.float64)
