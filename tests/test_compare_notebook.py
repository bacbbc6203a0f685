"""A comparison in a notebook (issue 22): the picture `compare --draw` draws — the first wrong
number in red with the right value beside it, the right inputs of its formula in green — above
the report, as a person reads it: the HTML is parsed, the marked label's numbers are checked
against a hand computation (Mazur's published figures), and a real kernel shows the same."""

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tracenn

from test_draw import wide_spec  # the 2-40-1 spec too wide to draw, shared

SVG = "{http://www.w3.org/2000/svg}"
WRONG, RIGHT = "#c00000", "#1e7b34"
NUMBER = re.compile(r"-?\d+\.\d+")
SPECS = Path(__file__).resolve().parent / "specs"


def parse(page: str):
    """The notebook HTML as XML (it must be well-formed): a root around its parts."""
    return ET.fromstring(f"<root>{page}</root>")


def coloured(root, colour: str) -> dict[str, str]:
    """Quantity name → text of each label drawn in `colour`."""
    return {t.get("data-q"): t.text for t in root.iter(f"{SVG}text") if t.get("fill") == colour}


def numbers(text: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(text)]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_a_wrong_out_is_marked_on_the_forward_picture_above_the_report():
    net_h1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35  # Mazur's h1, by hand: 0.3775
    result = tracenn.compare("mazur", {"net_h1": net_h1, "out_h1": 0.7})
    page = result._repr_html_()
    root = parse(page)
    parts = [child.tag for child in root]
    assert parts == ["div", "pre"]  # the picture above the report
    svg = root.find("div").find(f"{SVG}svg")
    assert svg is not None and svg.get("data-view") == "forward"
    wrong = coloured(root, WRONG)
    assert list(wrong) == ["out_h1"]
    yours, right = numbers(wrong["out_h1"])
    assert yours == 0.7 and right == pytest.approx(sigmoid(net_h1), abs=0.5e-4)
    assert "✗" in wrong["out_h1"] and "right" in wrong["out_h1"]
    assert numbers(coloured(root, RIGHT)["net_h1"]) == [pytest.approx(net_h1, abs=0.5e-4)]
    assert "First mismatch: out_h1" in root.find("pre").text


def test_a_wrong_delta_from_the_updated_weights_is_marked_on_the_backward_picture():
    """The walkthrough notebook's learner: ∂E/∂out_h1 = δ_o1·w5⁺ + δ_o2·w7⁺ with the updated
    weights instead of δ_o1·w5 + δ_o2·w7 (Mazur: 0.036350306)."""
    spec = tracenn.load("mazur")
    result = tracenn.compare(spec, tracenn.trace(spec, mistakes=["updated-weights"]))
    root = parse(result._repr_html_())
    svg = root.find("div").find(f"{SVG}svg")
    assert svg.get("data-view") == "backward"
    delta_o1, delta_o2 = 0.138498562, -0.038098236  # Mazur's published deltas
    w5_new, w7_new = 0.35891648, 0.511301270  # and updated weights
    yours, right = numbers(coloured(root, WRONG)["dE/dout_h1"])
    assert yours == pytest.approx(delta_o1 * w5_new + delta_o2 * w7_new, abs=0.5e-4)
    assert right == pytest.approx(delta_o1 * 0.40 + delta_o2 * 0.50, abs=0.5e-4)
    assert right == pytest.approx(0.036350306, abs=0.5e-4)
    greens = coloured(root, RIGHT)
    assert set(greens) == {"delta_o1", "delta_o2"}  # the inputs the learner had right
    assert numbers(greens["delta_o1"]) == [pytest.approx(delta_o1, abs=0.5e-4)]


def test_the_notebook_picture_is_the_one_compare_draw_draws():
    """A batch of three samples, sample 3's a1[2] wrong: the same SVG as `draw(...,
    comparison=…)` (what `compare --draw` writes), showing sample 3."""
    target = str(SPECS / "net-3-4-4-2.toml")
    step = tracenn.step(target)
    result = tracenn.compare(target, {"a1[2]@3": step["a1[2]@3"] + 0.1})
    page = result._repr_html_()
    assert tracenn.draw(target, comparison=result) in page
    root = parse(page)
    assert "sample 3 of 3" in page
    yours, right = numbers(coloured(root, WRONG)["a1[2]@3"])
    assert yours == pytest.approx(step["a1[2]@3"] + 0.1, abs=0.5e-4)
    assert right == pytest.approx(step["a1[2]@3"], abs=0.5e-4)


def test_when_every_value_matches_there_is_nothing_to_mark_and_no_picture():
    result = tracenn.compare("mazur", {"net_h1": 0.3775, "out_h1": 0.593269992})
    assert result.ok
    root = parse(result._repr_html_())
    assert [child.tag for child in root] == ["pre"]
    assert "Every value you gave matches" in root.find("pre").text


def test_a_network_too_large_to_draw_shows_its_report_only(tmp_path):
    path = wide_spec(tmp_path, 40)  # too many edges to draw
    step = tracenn.step(str(path))
    name = next(n for n in step.values() if n.startswith("a1["))
    result = tracenn.compare(str(path), {name: step[name] + 0.5})
    assert not result.ok
    page = result._repr_html_()
    assert "<svg" not in page and "First mismatch" in page


def test_a_real_kernel_shows_the_marked_picture(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cell = ("import tracenn\n"
            "tracenn.compare('mazur', {'net_h1': 0.3775, 'out_h1': 0.7})")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    (output,) = notebook.cells[0].outputs
    page = output["data"]["text/html"]
    wrong = coloured(parse(page), WRONG)
    assert numbers(wrong["out_h1"]) == [0.7, pytest.approx(sigmoid(0.3775), abs=0.5e-4)]
    json.dumps(output)  # the output is plain data a notebook file can store
