"""Rewrite the golden outputs and the walkthroughs, deliberately: python3 tests/regenerate.py [GOLDEN ...]

With names (paths from the repo root, or file names such as xor.jsonl) only those are
rewritten.  A JSON golden whose values are equal within GOLDEN_RELATIVE is kept as committed.

Run this only after a change that is meant to alter the output, and read the diff before you
commit it: the tests compare against these files, so rewriting them to make a red test green
hides the bug instead of fixing it.
"""

import json
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from click.testing import CliRunner

from tracenn.cli import cli
from tracenn.textbook import SHIPPED

ROOT = Path(__file__).resolve().parent.parent

# file (relative to the repo root) -> the tracenn arguments whose stdout it holds; with
# "-o NAME", the file of that name the command writes (or beside it, of the golden file's name)
OUTPUTS = {
    "tests/golden/mazur-steps-1.txt": ["mazur", "--steps", "1"],
    "tests/golden/mazur-github.md": ["mazur", "--format", "github"],
    "tests/golden/xor.txt": ["xor"],
    "tests/golden/xor-batch.txt": ["xor", "--batch"],
    "tests/golden/xor.jsonl": ["xor", "--json"],
    "tests/golden/trace-check.txt": ["trace", str(ROOT / "tests/specs/net-3-4-4-2.toml"), "--check"],
    # CS231n's circuit f = (x + y)·z at x = −2, y = 5, z = −4, drawn (issue 23)
    "tests/golden/circuit-cs231n-forward.svg": ["graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4",
                                                "--svg", "-", "--view", "forward"],
    "tests/golden/circuit-cs231n-backward.svg": ["graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4",
                                                 "--svg", "-", "--view", "backward"],
}
WALKTHROUGHS = {name: command.split()[1:] for name, command in SHIPPED.items()}
for _name, _args in WALKTHROUGHS.items():  # each written with -o, its two pictures beside it
    OUTPUTS[f"walkthroughs/{_name}.md"] = _args + ["-o", f"{_name}.md"]
    for _view in ("forward", "backward"):
        OUTPUTS[f"walkthroughs/{_name}-{_view}.svg"] = OUTPUTS[f"walkthroughs/{_name}.md"]


# folder (relative to the repo root) -> the tracenn arguments that write it (given -o FOLDER);
# the same arguments must write the same bytes
FOLDERS = {
    "tests/golden/exercise-mazur": ["exercise", "mazur", "--students", "2", "--seed", "1"],
}


# 1e-14 relative: three times the largest difference measured between kernels, and ten orders
# of magnitude below any change of a formula
GOLDEN_RELATIVE = 1e-14


def differences(expected, produced, where="") -> list[str]:
    """Where two parsed JSON values differ beyond GOLDEN_RELATIVE (floats) or at all (the rest)."""
    if isinstance(expected, float) and isinstance(produced, float):
        scale = max(abs(expected), abs(produced))
        close = expected == produced or abs(expected - produced) <= GOLDEN_RELATIVE * scale
        return [] if close else [f"{where}: {produced!r} where the golden has {expected!r}"]
    if type(expected) is not type(produced):
        return [f"{where}: {produced!r} where the golden has {expected!r}"]
    if isinstance(expected, dict):
        if list(expected) != list(produced):
            return [f"{where}: keys {list(produced)} where the golden has {list(expected)}"]
        return [d for key in expected
                for d in differences(expected[key], produced[key], f"{where}.{key}")]
    if isinstance(expected, list):
        if len(expected) != len(produced):
            return [f"{where}: {len(produced)} items where the golden has {len(expected)}"]
        return [d for i, (e, p) in enumerate(zip(expected, produced))
                for d in differences(e, p, f"{where}[{i}]")]
    return [] if expected == produced else [f"{where}: {produced!r} where the golden has {expected!r}"]


def parsed(rel: str, text: str) -> list:
    """A JSON golden's values: one per line for JSON Lines, one for a JSON file."""
    return [json.loads(line) for line in text.splitlines()] if rel.endswith(".jsonl") \
        else [json.loads(text)]

def produce_folder(args: list[str]) -> dict[str, str]:
    """The files `tracenn ARGS -o FOLDER` writes, by path relative to FOLDER."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "out"
        result = CliRunner().invoke(cli, args + ["-o", str(folder)], prog_name="tracenn")
        if result.exit_code != 0:
            raise SystemExit(f"tracenn {' '.join(args)} failed: {result.stderr}")
        return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
                for p in sorted(folder.rglob("*")) if p.is_file()}


@lru_cache(maxsize=None)
def _run(args: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """stdout, and the files the command wrote (by name) when it was given -o."""
    with tempfile.TemporaryDirectory() as tmp:
        given = [str(Path(tmp, a)) if i and args[i - 1] == "-o" else a for i, a in enumerate(args)]
        result = CliRunner().invoke(cli, given, prog_name="tracenn")
        written = {p.name: p.read_text(encoding="utf-8") for p in Path(tmp).iterdir()}
    if result.exit_code != 0:
        raise SystemExit(f"tracenn {' '.join(args)} failed: {result.stderr}")
    return result.stdout, written


def produce(args: list[str], name: str | None = None) -> str:
    """The output `args` make: stdout, or with -o the file called `name` (default: the -o
    file itself)."""
    stdout, written = _run(tuple(args))
    if "-o" not in args:
        return stdout
    return written[name or args[args.index("-o") + 1]]


def same(rel: str, old: str | None, new: str) -> bool:
    """Whether a golden needs no rewrite: byte-equal, or (JSON) equal within GOLDEN_RELATIVE, so
    that regenerating on another CPU does not commit that CPU's last digits."""
    if old is None:
        return False
    if old == new or not rel.endswith((".json", ".jsonl")):
        return old == new
    return not differences(parsed(rel, old), parsed(rel, new))


def chosen(names: list[str]) -> tuple[dict, dict]:
    """The goldens named on the command line (paths relative to the repo root, or file names),
    or all of them."""
    if not names:
        return OUTPUTS, FOLDERS
    known = {**OUTPUTS, **FOLDERS}
    picked = {}
    for name in names:
        rel = name.rstrip("/")
        matches = [k for k in known if k == rel or Path(k).name == Path(rel).name]
        if not matches:
            raise SystemExit(f"no golden called {name!r}; the goldens are: " + ", ".join(known))
        picked.update({k: known[k] for k in matches})
    return ({k: v for k, v in picked.items() if k in OUTPUTS},
            {k: v for k, v in picked.items() if k in FOLDERS})


def main(names: list[str]) -> None:
    outputs, folders = chosen(names)
    for rel, args in outputs.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = produce(args, path.name)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if same(rel, old, text):
            print(f"unchanged {rel}" + ("" if old == text else
                                       f" (equal within {GOLDEN_RELATIVE:g}: kept as committed)"))
            continue
        path.write_text(text, encoding="utf-8")
        print(f"rewrote   {rel}")
    for rel, args in folders.items():
        folder = ROOT / rel
        files = produce_folder(args)
        old = {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
               for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}
        if old != files:
            shutil.rmtree(folder, ignore_errors=True)
            for name, text in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_text(text, encoding="utf-8")
        print(f"{'unchanged' if old == files else 'rewrote  '} {rel}/ ({len(files)} files)")


if __name__ == "__main__":
    main(sys.argv[1:])
