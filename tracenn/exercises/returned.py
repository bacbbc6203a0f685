"""Whose answers a file holds: the student id written in it, the real names of roster.csv, a flat
folder of returned files named by student id, and answers that fit another student's variant
better than the one they were handed in for.

A teacher collects 30 files and sorts them by hand, and a file lands in the wrong folder, or a
student copies a neighbour's: answers.csv carries its student's id (a `student,student-03` row,
filled in by tracenn exercise), and grade says when it names another student, or when its
numbers are the right ones of another student's variant rather than of their own.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

ID_ROW = "student"  # the first field of answers.csv's row that names its student
_NUMBERED = re.compile(r"student[-_ ]*0*(\d+)", re.IGNORECASE)


def roster_row(sid: str, seed: int, name: str = "") -> list[str]:
    return [sid, str(seed), name]


def roster_csv(rows: list[list[str]]) -> str:
    """roster.csv: student id, the seed of the variant, and a real name (the teacher may fill it
    in; grade carries it into the gradebook)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "seed", "name"])
    writer.writerows(rows)
    return out.getvalue()


def roster_names(directory: Path) -> dict[str, str]:
    """The real names of roster.csv by student id (none when it has no name column, or cannot
    be read: the names are a courtesy, not needed to grade)."""
    try:
        rows = list(csv.DictReader(io.StringIO((directory / "roster.csv")
                                               .read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return {(r.get("student") or "").strip(): (r.get("name") or "").strip() for r in rows
            if (r.get("name") or "").strip()}


def written_id(path: Path) -> str | None:
    """The student id an answers file names in its `student,…` row (None when it has none)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        delimiter = ";" if ";" in line else "\t" if "\t" in line else ","
        fields = [f.strip() for f in next(csv.reader(io.StringIO(line), delimiter=delimiter), [])]
        if len(fields) >= 2 and fields[0].lower().rstrip(":") in (ID_ROW, "student id", "id"):
            return fields[1] or None
    return None


def same_student(written: str, sid: str) -> bool:
    """`written` names student `sid` (student-3, Student 03 and student-03 all do)."""
    a, b = _NUMBERED.fullmatch(written.strip()), _NUMBERED.fullmatch(sid)
    return written.strip() == sid or bool(a and b and int(a.group(1)) == int(b.group(1)))


def _owner(path: Path, ids: list[str], names: dict[str, str]) -> str | None:
    """The student a returned file belongs to: by the id or the real name in its file name,
    else by the id written in it."""
    found = _NUMBERED.search(path.stem)
    if found:
        match = [sid for sid in ids if same_student(found.group(0), sid)]
        if match:
            return match[0]
    stem = re.sub(r"[\s_-]+", " ", path.stem).strip().lower()
    by_name = [sid for sid, name in names.items() if re.sub(r"[\s_-]+", " ", name).lower() == stem]
    if by_name:
        return by_name[0]
    written = written_id(path)
    match = [sid for sid in ids if written and same_student(written, sid)]
    return match[0] if match else None


def returned_files(folder: Path, ids: list[str], names: dict[str, str]) -> tuple[dict, list]:
    """The files of a flat folder of returned answers by student id, and what sorting them
    found (a file of no student, two files of one)."""
    out: dict[str, Path] = {}
    notes = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        sid = _owner(path, ids, names)
        if sid is None:
            notes.append(f"{path.name}: names no student of the exercise in its file name or "
                         f"a {ID_ROW},… row (ignored)")
        elif sid in out:
            notes.append(f"{path.name}: a second file of {sid} ({out[sid].name} is graded)")
        else:
            out[sid] = path
    return out, notes


def better_fit(yours: dict[str, float], own: str, variants: dict[str, dict], close) -> tuple | None:
    """(the other student, how many of `yours` are right there, how many are right in `own`'s
    variant) when at least half of `yours` are right numbers of another student's variant and
    more of them than of `own`'s; else None.  `close(yours, right)` is the tolerance."""
    def right_in(sid):
        values = variants[sid]
        return sum(1 for name, v in yours.items() if name in values and close(v, values[name]))

    if not yours or own not in variants:
        return None
    here = right_in(own)
    best = max(((right_in(sid), sid) for sid in variants if sid != own), default=(0, None))
    if best[1] is not None and best[0] > here and 2 * best[0] >= len(yours):
        return best[1], best[0], here
    return None
