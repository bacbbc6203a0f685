"""Labels that belong (issue 22), checked on the SVG as a reader's eye would: no two texts
overlap, no other edge runs through a label's box while its own edge runs through its middle, a
label wears its edge's colour, one number format per picture, and every picture stays within
1,000 px — on 4-8-3, 3-4-4-2, the presets, an Adam run and the step player."""

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tracenn
from tracenn.render.svg import NEGATIVE, POSITIVE, ZERO

NS = "{http://www.w3.org/2000/svg}"
SPECS = Path(__file__).resolve().parent / "specs"
NETS = [("mazur", {}), ("xor", {}), ("softmax", {}), (str(SPECS / "net-4-8-3.toml"), {}),
        (str(SPECS / "net-3-4-4-2.toml"), {}), ("mazur", {"optimizer": "adam", "lr": 0.01}),
        (str(SPECS / "net-3-4-4-2.toml"), {"optimizer": "adam", "lr": 0.01})]
IDS = ["mazur", "xor", "softmax", "4-8-3", "3-4-4-2", "mazur-adam", "3-4-4-2-adam"]
VIEWS = ["forward", "backward", "update", "chain"]


def box(t, size):
    # monospaced: 0.6 em a character; the baseline at y, ascent 0.75 em, descent 0.25 em
    width = 0.6 * size * len(whole(t))
    x, y = float(t.get("x")), float(t.get("y"))
    x0 = x - width / 2 if t.get("text-anchor") == "middle" else x
    return x0, y - 0.75 * size, x0 + width, y + 0.25 * size


def whole(t) -> str:
    return "".join(t.itertext())  # the chain view writes a label in two coloured tspans


def segments(polyline):
    pts = [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
    return list(zip(pts, pts[1:]))


def distance_to_box(seg, b) -> float:
    """The shortest distance between a segment and a box (0 when it passes through), by
    sampling the segment finely — independent of the layout's own crossing test."""
    (x1, y1), (x2, y2) = seg
    best = math.inf
    for i in range(401):
        t = i / 400
        x, y = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
        dx = max(b[0] - x, 0, x - b[2])
        dy = max(b[1] - y, 0, y - b[3])
        best = min(best, math.hypot(dx, dy))
    return best


def picture(target, view, options):
    return ET.fromstring(tracenn.draw(target, 1, view=view, **options))


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("target, options", NETS, ids=IDS)
def test_labels_belong_to_their_edges(target, view, options):
    root = picture(target, view, options)
    size = float(root.get("font-size"))
    texts = [t for t in root.iter(f"{NS}text") if whole(t)]
    boxes = [(t, box(t, float(t.get("font-size") or size))) for t in texts]
    for i, (a, p) in enumerate(boxes):
        for b, q in boxes[i + 1:]:
            assert not (p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]), \
                (whole(a), whole(b))
    edges = {p.get("data-key"): p for p in root.iter(f"{NS}polyline")
             if p.get("class") in ("weight", "bias")}
    backed = {r.get("data-key") for r in root.iter(f"{NS}rect") if r.get("class") == "label"}
    on_edges = [(t, b) for t, b in boxes if t.get("data-key") in backed]
    for t, b in on_edges:
        own = edges[t.get("data-key")]
        mid = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        own_d = min(distance_to_box(s, (mid[0], mid[1], mid[0], mid[1])) for s in segments(own))
        assert own_d < 0.3 * size, (t.text, own_d)  # its own edge runs through its middle
        for key, other in edges.items():
            if other is own:
                continue
            d = min(distance_to_box(s, b) for s in segments(other))
            assert d > 0, (t.text, "crossed by", key)  # no foreign edge closer than its own


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("target, options", NETS, ids=IDS)
def test_one_number_format_and_a_bounded_width(target, view, options):
    root = picture(target, view, options)
    assert float(root.get("width")) <= 1000
    for t in root.iter(f"{NS}text"):
        assert not re.search(r"\de[-+]\d", whole(t)), whole(t)


@pytest.mark.parametrize("view", ["forward", "backward", "update"])
def test_every_label_wears_its_edges_colour(view):
    root = picture("mazur", view, {})
    step = tracenn.step("mazur", 1)
    dark = {POSITIVE: "#22568c", NEGATIVE: "#b5541a", ZERO: "#4a5568"}
    edges = {p.get("data-key"): p.get("stroke") for p in root.iter(f"{NS}polyline")
             if p.get("class") == "weight"}
    seen = 0
    for t in root.iter(f"{NS}text"):
        key = t.get("data-key", "")
        if key.startswith("w:"):
            _, l, j, k = key.split(":")
            layer = step.layers[int(l) - 1]
            value = {"forward": layer.W, "backward": layer.grad_W, "update": layer.W_new}[view]
            sign = POSITIVE if value[int(j), int(k)] > 0 else NEGATIVE
            assert edges[key] == sign and t.get("fill") == dark[sign], (key, t.get("fill"))
            seen += 1
    assert seen == 8


def test_a_wide_layer_pair_lists_its_labels_under_the_picture():
    root = picture(str(SPECS / "net-4-8-3.toml"), "update", {})
    texts = {t.get("data-key"): t for t in root.iter(f"{NS}text")}
    step = tracenn.step(str(SPECS / "net-4-8-3.toml"), 1)
    lowest_card = max(float(r.get("y")) + float(r.get("height")) for r in root.iter(f"{NS}rect")
                      if r.get("class") == "neuron")
    for l, layer in enumerate(step.layers, start=1):
        assert f"mcap:{l}" in texts
        for j in range(layer.W.shape[0]):
            for k in range(layer.W.shape[1]):
                t = texts[f"w:{l}:{j}:{k}"]
                assert float(t.get("y")) > lowest_card
                found = re.findall(r"−?-?\d+\.\d{4}", t.text)
                old, new = found[0], found[-1]  # w old − η·g = new
                assert float(old) == pytest.approx(layer.W[j, k], abs=0.51e-4)
                assert float(new) == pytest.approx(layer.W_new[j, k], abs=0.51e-4)


@pytest.mark.parametrize("target", ["xor", str(SPECS / "net-4-8-3.toml")])
def test_the_players_picture_is_at_most_1000_px_wide(target):
    page = tracenn.html(target, steps=3)
    widths = [float(w) for w in re.findall(r'<svg[^>]*class="tracenn-figure[^>]*', page)
              for w in re.findall(r'width="([\d.]+)"', w)[:1]]
    assert widths and max(widths) <= 1000
