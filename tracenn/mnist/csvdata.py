"""MNIST as CSV: one image a row, a label and 784 pixels, as Kaggle's "MNIST in CSV" writes it
(mnist_train.csv: the header "label,1x1,…,28x28", then rows such as "5,0,0,…"), plain or
gzipped (.csv.gz).

The file is read once, a few thousand lines at a time, and NumPy parses each block straight
into bytes (np.loadtxt with dtype uint8 accepts exactly the whole numbers 0–255), so memory
holds one block of text and the images as bytes, never the file's text or a float copy of it.
Only a block NumPy refuses is looked at line by line, to name the file line, the column and
what is wrong in tracenn's words: a cell that is not a number, a row of the wrong width, a
label outside 0–9, a pixel outside 0–255 or written as a decimal (refused rather than rounded).

The first line is a header when most of its cells are not numbers or one of them names the
label column; a first line of numbers is data (a byte-order mark or a label written "5.0" does
not make it a header).  The label column is, in this order: the one `label_column` gives (a
header name or a number counted from 1), the header's label, class, target or y, or the first
column.  A first column that cannot hold the labels (values above 9, or one value in every
row) is refused when another column could, with a hint to give that one.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError, OptionError

PIXELS = 784
WIDTH = PIXELS + 1  # the label and the pixels
LABEL_NAMES = ("label", "class", "target", "y")
BLOCK = 4096  # lines parsed at a time: a few MB of text
_MIN_ROW_BYTES = 2 * WIDTH  # a row of one-digit cells, commas and the newline
_INT = re.compile(r"\s*\+?\d+\s*\Z")
_DECIMAL = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*\Z")
_NEGATIVE = re.compile(r"\s*-\d+\s*\Z")


def read_csv(path: Path, label_column: str | int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Images (N, 784) and labels (N,) as uint8, and the label's column (counted from 0).
    Raises DataError naming the file and line, or OptionError for a `label_column` that the
    file does not have."""
    try:
        with _open_text(path) as f:
            return _Reader(path, f, label_column).read()
    except OSError as exc:  # also a damaged gzip file (gzip.BadGzipFile is an OSError)
        if isinstance(exc, gzip.BadGzipFile):
            raise DataError(path, "is not a complete gzip file: it ends early or is damaged") from None
        raise DataError(path, f"cannot be read: {exc.strerror or exc}") from None
    except (EOFError, zlib.error):
        raise DataError(path, "is not a complete gzip file: it ends early or is damaged") from None
    except UnicodeDecodeError:
        raise DataError(path, "is not a text file in UTF-8 (CSV is text: a label and 784 "
                        "pixels a line)") from None


def _open_text(path: Path):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    # utf-8-sig drops a byte-order mark, so that it never makes the first line look like a header
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


def _rows_at_most(path: Path) -> int:
    """An upper bound on the number of rows, from the file's size (a gzip file records its
    uncompressed size, modulo 4 GB, in its last four bytes)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b" and size >= 18:
            f.seek(-4, os.SEEK_END)
            size = struct.unpack("<I", f.read(4))[0]
    return size // _MIN_ROW_BYTES + 1


def _cells(line: str) -> list[str]:
    return line.rstrip("\r\n").split(",")


def _name(cell: str) -> str:
    return cell.strip().strip("\"'").strip().lower()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


class _Images:
    """The uint8 images and labels of the rows read so far, in arrays that grow by doubling
    (rarely: they start at the file's upper bound, whose pages are untouched until used)."""

    def __init__(self, capacity: int):
        self.images = np.empty((capacity, PIXELS), dtype=np.uint8)
        self.labels = np.empty(capacity, dtype=np.uint8)
        self.n = 0

    def add(self, before: np.ndarray, labels: np.ndarray, after: np.ndarray) -> None:
        m = len(labels)
        if self.n + m > len(self.labels):
            cap = max(2 * len(self.labels), self.n + m)
            images, self.images = self.images, np.empty((cap, PIXELS), dtype=np.uint8)
            self.images[:self.n] = images[:self.n]
            old, self.labels = self.labels, np.empty(cap, dtype=np.uint8)
            self.labels[:self.n] = old[:self.n]
        k = before.shape[1]
        rows = slice(self.n, self.n + m)
        self.images[rows, :k] = before
        self.images[rows, k:] = after
        self.labels[rows] = labels
        self.n += m


class _Reader:
    """One pass over a CSV file's lines (see the module's docstring)."""

    def __init__(self, path: Path, lines, label_column):
        self.path, self.lines = path, lines
        self.option = label_column
        self.line_no = 0  # file lines consumed so far
        self.decimal_labels = False  # labels written as "5.0": parsed as floats, then checked
        self.first_bad_label: tuple[int, int] | None = None  # (line, value) above 9

    def read(self) -> tuple[np.ndarray, np.ndarray, int]:
        first = self._first_line()
        if first is None:
            raise DataError(self.path, "holds no rows: expected a label and 784 pixels a line")
        header = _cells(first) if self._is_header(_cells(first)) else None
        self.k, self.chosen = self._label_index(header)
        pending = [] if header is not None else [first]
        start = self.line_no + (0 if header is not None else -1) + 1  # file line of pending[0]
        out = _Images(_rows_at_most(self.path))
        while True:
            block = pending + list(itertools.islice(self.lines, BLOCK))
            pending = []
            if not block:
                break
            self._parse(block, start, out)
            start += len(block)
        if out.n == 0:
            raise DataError(self.path, "holds no rows after its header: expected a label and "
                            "784 pixels a line")
        images, labels = out.images[:out.n], out.labels[:out.n]
        self._check_labels(images, labels, header)
        return images, labels, self.k

    def _first_line(self) -> str | None:
        for line in self.lines:
            self.line_no += 1
            if line.strip():
                return line
        return None

    def _is_header(self, cells: list[str]) -> bool:
        names = [_name(c) for c in cells]
        wanted = set(LABEL_NAMES)
        if isinstance(self.option, str) and not self.option.isdigit():
            wanted.add(_name(self.option))
        words = sum(not _is_number(c) for c in cells)
        return 2 * words > len(cells) or any(n in wanted for n in names)

    def _label_index(self, header: list[str] | None) -> tuple[int, bool]:
        """The label's column (from 0), and whether it was chosen (by the option or the
        header's name) rather than guessed."""
        width = len(header) if header is not None else WIDTH
        if header is not None and width != WIDTH:
            text = _width_message(f"the header (line {self.line_no}) names", width)
            if width == WIDTH + 1 and _name(header[0]) in ("", "unnamed: 0"):
                text += ("; its first column looks like pandas' row index (write the file with "
                         "to_csv(..., index=False))")
            raise DataError(self.path, text)
        option = self.option
        if option is not None and str(option).strip().isdigit():
            number = int(str(option).strip())
            if not 1 <= number <= WIDTH:
                raise OptionError(f"--label-column {number}: a row has {WIDTH} columns; give a "
                                  f"number from 1 to {WIDTH} or a header name")
            return number - 1, True
        names = [_name(c) for c in header] if header is not None else []
        if option is not None:
            if header is None:
                raise OptionError(f"--label-column {option}: {self.path} has no header line to "
                                  "find that name in; give the column's number, counted from 1")
            if _name(str(option)) not in names:
                raise OptionError(f"--label-column {option}: no such column in the header of "
                                  f"{self.path}; its first columns are "
                                  f"{', '.join(header[:4]).strip()}, …")
            return names.index(_name(str(option))), True
        found = [i for i, n in enumerate(names) if n in LABEL_NAMES]
        if len(found) > 1:
            listed = ", ".join(f"{header[i].strip()} (column {i + 1})" for i in found)
            raise DataError(self.path, f"several columns could be the label: {listed}; choose "
                            "one with --label-column")
        return (found[0], True) if found else (0, False)

    # --- blocks of lines ----------------------------------------------------------------------

    def _dtype(self):
        if not self.decimal_labels:
            return np.uint8
        k = self.k
        fields = [("before", np.uint8, (k,))] if k else []
        fields.append(("label", np.float64))
        fields += [("after", np.uint8, (PIXELS - k,))] if k < PIXELS else []
        return np.dtype(fields)

    def _loadtxt(self, lines: list[str]) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": a block of blank lines
            return np.loadtxt(lines, delimiter=",", dtype=self._dtype(), comments=None,
                              ndmin=1 if self.decimal_labels else 2)

    def _parse(self, block: list[str], start: int, out: _Images) -> None:
        while True:
            try:
                table = self._loadtxt(block)
                break
            except ValueError:
                block = self._after_refusal(block, start)
        if table.size == 0:
            return
        if self.decimal_labels:
            before = table["before"] if self.k else np.empty((len(table), 0), np.uint8)
            after = table["after"] if self.k < PIXELS else np.empty((len(table), 0), np.uint8)
            labels = table["label"]
            bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels > 9))
            if bad.size:
                line, cells = _nth_row(block, start, int(bad[0]))
                raise DataError(self.path, f"line {line}: the label {cells[self.k].strip()} "
                                f"(column {self.k + 1}) is not one of the whole numbers 0–9")
            out.add(before, labels.astype(np.uint8), after)
            return
        if table.shape[1] != WIDTH:
            line, cells = _nth_row(block, start, 0)
            raise DataError(self.path, _width_message(f"line {line} has", len(cells)))
        labels = table[:, self.k]
        if self.first_bad_label is None and labels.max() > 9:
            row = int(np.flatnonzero(labels > 9)[0])
            self.first_bad_label = (_nth_row(block, start, row)[0], int(labels[row]))
        out.add(table[:, :self.k], labels, table[:, self.k + 1:])

    def _after_refusal(self, block: list[str], start: int) -> list[str]:
        """NumPy refused the block: find the first line it refuses and say what is wrong with
        it, or — when that line only has spaces, or a label written as a decimal — return the
        block to parse again (blanked spaces; decimal labels from now on)."""
        if any(line.isspace() and line.strip("\r\n") for line in block):
            return ["\n" if line.isspace() else line for line in block]
        lo, hi = 0, len(block)  # NumPy accepts block[:lo] and refuses block[:hi]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                self._loadtxt(block[:mid])
                lo = mid
            except ValueError:
                hi = mid
        i = hi - 1
        problem = _problem(_cells(block[i]), start + i, self.k, self.decimal_labels)
        if problem == "decimal label":
            self.decimal_labels = True
            return block
        if problem is None:  # the line is fine: the width changed after the block's first row
            line, cells = _nth_row(block, start, 0)
            problem = _width_message(f"line {line} has", len(cells))
        raise DataError(self.path, problem)

    # --- the labels, once every row is read ---------------------------------------------------

    def _check_labels(self, images: np.ndarray, labels: np.ndarray, header) -> None:
        bad = self.first_bad_label
        constant = len(labels) > 1 and labels.min() == labels.max()
        if not self.chosen and (bad is not None or constant):
            other = _label_like_column(images, self.k)
            if other is not None:
                why = (f"it holds {labels[0]} in every row" if bad is None
                       else f"line {bad[0]} holds {bad[1]} there")
                named = f" ({header[other].strip()})" if header is not None else ""
                raise DataError(self.path, f"column {self.k + 1} cannot be the label ({why}), "
                                f"but column {other + 1}{named} holds digits 0–9; if the labels "
                                f"are there, give --label-column {other + 1} (--label-column "
                                f"{self.k + 1} keeps this one)")
        if bad is not None:
            raise DataError(self.path, f"line {bad[0]}: the label {bad[1]} (column {self.k + 1}) "
                            "is outside 0–9")


def _nth_row(block: list[str], start: int, row: int) -> tuple[int, list[str]]:
    """The file line number and cells of the block's row `row` (blank lines are no rows)."""
    seen = -1
    for i, line in enumerate(block):
        if line.strip():
            seen += 1
            if seen == row:
                return start + i, _cells(line)
    raise IndexError(row)


def _width_message(what: str, width: int) -> str:
    text = (f"{what} {width} column{'s' if width != 1 else ''}; a row needs a label and 784 "
            f"pixels ({WIDTH} columns), the pixels of a 28×28 image")
    if width == PIXELS:
        text += ("; a file of pixels only, such as Kaggle's digit-recognizer test.csv, has no "
                 "labels to learn from or test against")
    return text


def _problem(cells: list[str], line: int, k: int, decimal_labels: bool) -> str | None:
    """What is wrong with one row, in tracenn's words; "decimal label" for a label written as a
    decimal (5.0), which is allowed; None if nothing is."""
    if len(cells) != WIDTH:
        return _width_message(f"line {line} has", len(cells))
    for c, cell in enumerate(cells):
        where = f"line {line}, column {c + 1}"
        text = cell.strip()
        what, allowed = ("label", "0–9") if c == k else ("pixel", "0–255")
        if _INT.match(cell) and int(text) <= 255:
            continue
        if _INT.match(cell) or _NEGATIVE.match(cell):
            return f"{where}: the {what} {text} is outside {allowed}"
        if c == k and _DECIMAL.match(cell):
            value = float(text)
            if value == round(value) and 0 <= value <= 9:
                if decimal_labels:
                    continue
                return "decimal label"
            return f"{where}: the label {text} is not one of the whole numbers 0–9"
        if _DECIMAL.match(cell):
            return (f"{where}: the pixel {text} is not a whole number; pixels are whole numbers "
                    "0–255 (refused rather than rounded)")
        if not text:
            return f"{where} is empty"
        return f"{where}: {text[:20]!r} is not a number"
    return None


def _label_like_column(images: np.ndarray, label: int) -> int | None:
    """The column (counted from 0 in the file) that looks most like labels: only values 0–9 and
    the most distinct ones (at least two); None if no column does."""
    small = np.flatnonzero(images.max(axis=0) <= 9)
    best, best_count = None, 1
    for j in small:
        count = np.count_nonzero(np.bincount(images[:, j], minlength=10))
        if count > best_count:
            best, best_count = int(j), count
    if best is None:
        return None
    return best if best < label else best + 1
