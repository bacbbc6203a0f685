"""The notebooks in walkthroughs/ run from top to bottom without an error (each asserts the
published numbers it shows)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "walkthroughs").glob("*.ipynb"))


def execute(path: Path) -> None:
    """Run every cell of the notebook at `path` in a fresh kernel; raises on a cell error."""
    nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[test]' installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[test]' installs nbclient")
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    if "torch" in path.name:
        pytest.importorskip("torch", reason="pip install '.[torch]' to run this notebook")
    execute(path)


def test_a_failing_cell_fails_the_test(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 == 2")])
    path = tmp_path / "bad.ipynb"
    nbformat.write(bad, path)
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        execute(path)
