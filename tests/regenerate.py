"""Rewrite the golden outputs and the walkthroughs, deliberately: python3 tests/regenerate.py

Run this only after a change that is meant to alter the output, and read the diff before you
commit it: the tests compare against these files, so rewriting them to make a red test green
hides the bug instead of fixing it.
"""

import shutil
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


def main() -> None:
    for rel, args in OUTPUTS.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = produce(args, path.name)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        path.write_text(text, encoding="utf-8")
        print(f"{'unchanged' if old == text else 'rewrote  '} {rel}")
    for rel, args in FOLDERS.items():
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
    main()
