"""Rewrite the golden outputs and the walkthroughs, deliberately: python3 tests/regenerate.py

Run this only after a change that is meant to alter the output, and read the diff before you
commit it: the tests compare against these files, so rewriting them to make a red test green
hides the bug instead of fixing it.
"""

import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner

from tracenn.cli import cli

ROOT = Path(__file__).resolve().parent.parent

# file (relative to the repo root) -> the tracenn arguments whose stdout it holds
OUTPUTS = {
    "tests/golden/mazur-steps-1.txt": ["mazur", "--steps", "1"],
    "tests/golden/mazur-github.md": ["mazur", "--format", "github"],
    "tests/golden/xor.txt": ["xor"],
    "tests/golden/xor-batch.txt": ["xor", "--batch"],
    "tests/golden/xor.jsonl": ["xor", "--json"],
    "tests/golden/trace-check.txt": ["trace", str(ROOT / "tests/specs/net-3-4-4-2.toml"), "--check"],
    "walkthroughs/mazur.md": ["walkthrough", "mazur"],
    "walkthroughs/xor.md": ["walkthrough", "xor"],
    "walkthroughs/softmax.md": ["walkthrough", "softmax"],
    "walkthroughs/adam.md": ["walkthrough", "mazur", "--optimizer", "adam", "--lr", "0.01",
                             "--steps", "3"],
}


# folder (relative to the repo root) -> the tracenn arguments that write it (given -o FOLDER);
# the same arguments must write the same bytes
FOLDERS = {
    "tests/golden/exercise-mazur": ["exercise", "mazur", "--students", "2", "--seed", "1"],
}


def produce_folder(args: list[str]) -> dict[str, str]:
    """The files `tracenn ARGS -o FOLDER` writes, by path relative to FOLDER."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "out"
        produce(args + ["-o", str(folder)])
        return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
                for p in sorted(folder.rglob("*")) if p.is_file()}


def produce(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, prog_name="tracenn")
    if result.exit_code != 0:
        raise SystemExit(f"tracenn {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def main() -> None:
    for rel, args in OUTPUTS.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = produce(args)
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
