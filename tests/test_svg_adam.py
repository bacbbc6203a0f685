"""Adam's update view (issue 22: a 2-2-2 net's was 1,830 px wide, without m̂, v̂ or the step):
each weight on two lines, m̂ and v̂ above w − η·m̂/(√v̂ + ε) = w⁺, listed under the picture,
which stays within 1,000 px."""

import xml.etree.ElementTree as ET

import tracenn

NS = "{http://www.w3.org/2000/svg}"


def test_adam_update_two_lines_per_weight_within_a_thousand_pixels():
    root = ET.fromstring(tracenn.draw("mazur", 1, view="update", optimizer="adam"))
    assert float(root.get("width")) <= 1000
    texts = {t.get("data-key"): t for t in root.iter(f"{NS}text")}
    for l, j, k in [(l, j, k) for l in (1, 2) for j in (0, 1) for k in (0, 1)]:
        first, second = texts[f"ws:{l}:{j}:{k}"], texts[f"w:{l}:{j}:{k}"]
        assert first.text.startswith("m̂ ") and " · v̂ " in first.text
        assert first.get("x") == second.get("x")
        assert 10 < float(second.get("y")) - float(first.get("y")) < 20  # the next line
    assert "η·m̂/(√v̂ + ε)" in texts["mcap:2"].text


def test_other_optimizers_keep_one_line():
    root = ET.fromstring(tracenn.draw("mazur", 1, view="update", optimizer="momentum"))
    keys = [t.get("data-key") for t in root.iter(f"{NS}text")]
    assert not [k for k in keys if k.startswith("ws:")]
