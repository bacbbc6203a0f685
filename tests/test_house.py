"""The rules of the house, checked: imports run downward, click only in the CLI, SymPy only in
maths/, functions and modules of a readable size, every command's --help works."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tracenn.cli import COMMANDS

PACKAGE = Path(__file__).resolve().parent.parent / "tracenn"
MAX_FUNCTION, MAX_MODULE = 60, 400

# Rooms, lowest first: a module may import from its own room and the rooms before it.
ORDER = ["errors", "notation", "files", "engine", "record", "spec", "maths", "runs", "maps",
         "comparison", "circuits", "textbook", "render", "player", "pictures", "mnist", "bridges",
         "exercises",
         "api", "cli"]
ROOM_OF = {"__init__": "api", "__main__": "cli"}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def room(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else ROOM_OF.get(path.stem, path.stem)


def imported(tree) -> set[str]:
    """Top-level names imported (absolute) and rooms imported (relative), outside functions."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                out.add(node.module.split(".")[0])
    return out


def test_click_only_in_the_cli_and_sympy_only_in_maths():
    for path, tree in modules():
        names = imported(tree)
        if room(path) != "cli":
            assert "click" not in names, path
        if room(path) not in ("maths",):
            assert "sympy" not in names and "mpmath" not in names, path


# Imports inside functions that may point upward, and why:
# - render.notebook: the `_repr_html_`/`_repr_svg_` hooks Jupyter calls on records and results
#   (a record only says where its picture is drawn; it never draws it itself)
# - render.text: the `__str__` hooks of the same records and results (the terminal's text)
# - render.check: `str()` of a check of a learner's arrays (its text)
LAZY_UPWARD = {"render.notebook", "render.text", "render.check"}
# The engine imports SymPy only inside the SymPy forms of its formulas ("one formula, one
# object": an activation, a loss and an optimizer each hold their own), never at import time.
ENGINE_SYMPY = {"engine/functions.py", "engine/optim.py"}


def imported_rooms(path: Path, tree, lazy: bool = False):
    """(room, module) for each relative import of a module: at its top level, or (`lazy`)
    inside its functions."""
    package = list(path.relative_to(PACKAGE).parts[:-1])
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and (id(node) not in top) == lazy:
            base = package[: len(package) - (node.level - 1)]
            target = base + [p for p in (node.module or "").split(".") if p]
            if target:
                yield ROOM_OF.get(target[0], target[0]), ".".join(target)


def test_imports_run_downward():
    for path, tree in modules():
        here = ORDER.index(room(path))
        for there, module in imported_rooms(path, tree):
            assert ORDER.index(there) <= here, f"{path.relative_to(PACKAGE)} imports {module}"
        for there, module in imported_rooms(path, tree, lazy=True):
            assert ORDER.index(there) <= here or module in LAZY_UPWARD, \
                f"{path.relative_to(PACKAGE)} imports {module} inside a function"


def test_the_engine_imports_sympy_only_in_its_formulas_sympy_forms():
    for path, tree in modules():
        rel = "/".join(path.relative_to(PACKAGE).parts)
        if not rel.startswith("engine/"):
            continue
        names = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
        assert "click" not in names and "tabulate" not in names, rel
        assert "sympy" not in names or rel in ENGINE_SYMPY, rel


def test_the_import_check_can_fail(tmp_path):
    bad = ast.parse("from ..record.trace import Step\n")
    assert [r for r, _ in imported_rooms(PACKAGE / "engine" / "x.py", bad)] == ["record"]
    lazy = ast.parse("def f():\n    from ..render.steps import step_tables\n")
    assert [m for _, m in imported_rooms(PACKAGE / "record" / "x.py", lazy, lazy=True)] == \
        ["render.steps"]


def test_functions_and_modules_are_of_a_readable_size():
    too_long = []
    for path, tree in modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE:
            too_long.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION:
                    too_long.append(f"{path.relative_to(PACKAGE)}: {node.name} {n} lines")
    assert not too_long


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command(run, command):
    result = run(*([command] if command else []), "--help")
    assert result.exit_code == 0, result.stderr
    assert "Usage: tracenn" in result.stdout and "--help" in result.stdout


def test_help_tracenn_lists_the_api():
    done = subprocess.run([sys.executable, "-c", "import tracenn; help(tracenn)"],
                          capture_output=True, text=True, env={"PAGER": "cat", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    for name in ("load", "trace", "verify", "compare", "walkthrough", "TracennError"):
        assert name in done.stdout
