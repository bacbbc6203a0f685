"""Arrowheads on the network's wires (svg.py, Link.head in layout.py): one per weight and
shared-bias edge, its tip on the end of its edge (the neuron the edge feeds), pointing the way
the values flow (left to right), in its edge's colour, in every view."""

import math
import xml.etree.ElementTree as ET

import pytest

import tracenn

NS = "{http://www.w3.org/2000/svg}"


def pairs(text: str):
    return [tuple(map(float, p.split(","))) for p in text.split()]


@pytest.mark.parametrize("spec,view", [("mazur", "forward"), ("mazur", "chain"),
                                       ("xor", "backward"), ("softmax", "update")])
def test_each_wire_has_an_arrowhead_at_its_end_pointing_forward(spec, view):
    root = ET.fromstring(tracenn.draw(spec, 1, view=view))
    edges = {p.get("data-key"): p for p in root.iter(f"{NS}polyline")
             if p.get("class") in ("weight", "bias")}
    heads = {p.get("data-key"): p for p in root.iter(f"{NS}polygon") if p.get("class") == "arrow"}
    assert edges and sorted(heads) == sorted(edges)
    for key, edge in edges.items():
        points = pairs(edge.get("points"))
        tip, left, right = pairs(heads[key].get("points"))
        assert math.dist(tip, points[-1]) < 0.11, key  # rounded to a tenth of a pixel
        base = ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2)
        (x0, y0), (x1, y1) = points[-2], points[-1]
        # the base lies back along the edge, 7 px from the tip, and left of it
        along = ((tip[0] - base[0]) * (x1 - x0) + (tip[1] - base[1]) * (y1 - y0)) / \
            math.dist(points[-2], points[-1])
        assert abs(along - 7) < 0.2 and base[0] < tip[0], key
        if edge.get("class") == "weight":
            assert heads[key].get("fill") == edge.get("stroke"), key
