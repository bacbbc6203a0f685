"""XOR's decision maps (maps.py computes, render/heatmap.py draws): every point of each unit's
line is where that unit's activation is its level (0.5 for a sigmoid), recomputed here with
the trace's updated weights by a NumPy forward pass written in the test; the heat map's cells
are the same forward pass on the grid; no two labels overlap, by the layout's boxes and by
Chromium's own boxes of the drawn texts."""

import re
from itertools import combinations

import numpy as np
import pytest

import tracenn
from tracenn.maps import decision_maps
from tracenn.render.heatmap import PANEL, colour, maps_layout, render_maps
from tracenn.runs import trace_one_step

from test_html import browser  # noqa: F401  (the Chromium fixture)

STEP = 3000


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.fixture(scope="module")
def xor():
    spec = tracenn.load("xor")
    traced = trace_one_step(spec, STEP)
    weights = [(layer.W_new, layer.b_new) for layer in traced.layers]
    return spec, decision_maps(spec, STEP), weights


def activations(weights, points):
    """a^l for l = 1..L, by hand: a = σ(W a + b), W[j][k] from input k to neuron j."""
    a, out = np.asarray(points, dtype=float), []
    for W, b in weights:
        a = sigmoid(a @ W.T + b)
        out.append(a)
    return out


def test_xor_has_a_map_per_hidden_unit_and_the_output(xor):
    _, maps, _ = xor
    assert [(u.name, u.layer) for u in maps.maps] == [("h1", 1), ("h2", 1), ("y", 2)]
    assert all(u.level == 0.5 and (u.lo, u.hi) == (0.0, 1.0) for u in maps.maps)


def test_every_point_of_each_line_is_where_the_unit_is_one_half(xor):
    _, maps, weights = xor
    for u in maps.maps:
        points = [p for seg in u.segments for p in seg]
        assert len(points) >= 20, u.name  # the line crosses the square
        a = activations(weights, points)[u.layer - 1][:, u.index]
        assert np.max(np.abs(a - 0.5)) < 1e-6, u.name


def test_the_output_line_separates_the_classes_and_the_cells_are_the_forward_pass(xor):
    spec, maps, weights = xor
    out = activations(weights, spec.data.X)[-1][:, 0]
    assert ((out >= 0.5) == (spec.data.T[:, 0] == 1)).all()  # trained: the line separates
    n = maps.maps[0].values.shape[0]
    xs, ys = np.linspace(*maps.x, n), np.linspace(maps.y[1], maps.y[0], n)
    grid = np.array([(x, y) for y in ys for x in xs])
    hidden, output = activations(weights, grid)
    for u, hand in zip(maps.maps, [*hidden.T, output[:, 0]]):
        assert np.allclose(u.values.ravel(), hand, atol=1e-12), u.name


def test_the_drawn_line_is_the_computed_line(xor):
    """The SVG path of each panel, mapped back to the input square, lies on the 0.5 line."""
    _, maps, weights = xor
    svg, lay = render_maps(maps), maps_layout(maps)
    paths = re.findall(r'<path class="contour" data-level="[^"]*" d="([^"]*)"', svg)
    assert len(paths) == len(maps.maps)
    for u, panel, d in zip(maps.maps, lay.panels, paths):
        xy = np.array([float(v) for v in re.findall(r"-?\d+\.?\d*", d)]).reshape(-1, 2)
        x = maps.x[0] + (xy[:, 0] - panel.x) / PANEL * (maps.x[1] - maps.x[0])
        y = maps.y[1] - (xy[:, 1] - panel.y) / PANEL * (maps.y[1] - maps.y[0])
        a = activations(weights, np.column_stack([x, y]))[u.layer - 1][:, u.index]
        assert np.max(np.abs(a - 0.5)) < 0.01, u.name


def test_colour_scale_runs_orange_white_blue():
    assert [colour(v, 0, 1) for v in (0, 0.5, 1)] == ["#dd6b20", "#f7f7f7", "#2b6cb0"]


def boxes_overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_no_two_labels_overlap_and_all_are_inside(xor):
    _, maps, _ = xor
    lay = maps_layout(maps)
    boxes = {t.key: t.box() for t in lay.texts}
    assert not [(a, b) for a, b in combinations(boxes, 2) if boxes_overlap(boxes[a], boxes[b])]
    assert all(0 <= x0 and x1 <= lay.width and 0 <= y0 and y1 <= lay.height
               for x0, y0, x1, y1 in boxes.values())
    assert lay.width <= 1000


def test_in_chromium_no_two_drawn_texts_overlap(browser, xor, tmp_path):  # noqa: F811
    _, maps, _ = xor
    path = tmp_path / "maps.svg"
    path.write_text(render_maps(maps), encoding="utf-8")
    browser.get(path.resolve().as_uri())
    boxes = browser.execute_script(
        "return Array.from(document.querySelectorAll('text')).map(t => {"
        "const b = t.getBBox(); return [t.dataset.key, b.x, b.y, b.x + b.width, b.y + b.height]})")
    assert len(boxes) > 20
    svg_w = browser.execute_script("return document.querySelector('svg').width.baseVal.value")
    clashes = [(a[0], b[0]) for a, b in combinations(boxes, 2)
               if boxes_overlap(a[1:], b[1:])]
    assert not clashes
    assert all(b[3] <= svg_w for b in boxes)


def test_one_column_fits_a_phone_and_softmax_labels_do_not_overlap():
    for maps, columns, widest in ((decision_maps(tracenn.load("xor"), 10), 1, 400),
                                  (decision_maps(tracenn.load("softmax")), 3, 1000)):
        lay = maps_layout(maps, columns)
        boxes = [t.box() for t in lay.texts]
        assert not [(a, b) for a, b in combinations(boxes, 2) if boxes_overlap(a, b)]
        assert lay.width <= widest and all(b[2] <= lay.width for b in boxes)


def test_softmax_outputs_switch_at_one_half_and_tanh_units_at_zero():
    maps = decision_maps(tracenn.load("softmax"))
    assert [(u.name, u.level, u.lo, u.hi) for u in maps.maps] == [
        ("h1", 0.0, -1.0, 1.0), ("h2", 0.0, -1.0, 1.0), ("h3", 0.0, -1.0, 1.0),
        ("o1", 0.5, 0.0, 1.0), ("o2", 0.5, 0.0, 1.0), ("o3", 0.5, 0.0, 1.0)]


def test_the_command_writes_the_svg_and_refuses_a_spec_without_a_square(run, tmp_path):
    out = tmp_path / "maps.svg"
    result = run("maps", "xor", "--step", "200", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count('class="contour"') == 6
    result = run("maps", "mazur")
    assert result.exit_code == 2 and "differ in both inputs" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run("maps", "xor", "--step", "9000")
    assert result.exit_code == 2 and "beyond the trace" in result.stderr
