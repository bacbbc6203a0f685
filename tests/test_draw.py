"""Pictures as a person sees them: the SVG is parsed, every number on it is checked against the
trace (and Mazur's published figures), no two labels overlap, nothing is fetched from
elsewhere, and bad input is refused in one line without leaving a file."""

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tracenn

NS = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(__file__).resolve().parent / "specs"
NUMBER = re.compile(r"−?-?\d+\.\d+(?:e[-+]\d+)?")
TARGETS = ["mazur", "xor", "softmax", str(SPECS / "net-4-8-3.toml"),
           str(SPECS / "net-3-4-4-2.toml")]


def parse(svg: str):
    return ET.fromstring(svg)


def texts(root):
    """(element, its text) for every non-empty text."""
    return [(t, t.text) for t in root.iter(f"{NS}text") if t.text]


def box(t, root):
    """A text's box, estimated as a reader's eye would: the font size (the element's or the
    picture's), 0.6 em per character (the pictures use a monospaced font), the baseline at y."""
    size = float(t.get("font-size") or root.get("font-size"))
    width = 0.6 * size * len(t.text)
    x, y = float(t.get("x")), float(t.get("y"))
    x0 = {"middle": x - width / 2, "end": x - width}.get(t.get("text-anchor"), x)
    return x0, y - 0.75 * size, x0 + width, y + 0.25 * size


def overlaps(root):
    boxes = [(t.text, box(t, root)) for t, _ in texts(root)]
    return [(a, b) for i, (a, p) in enumerate(boxes) for b, q in boxes[i + 1:]
            if p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]]


def numbers(text: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in NUMBER.findall(text)]


def by_key(root, key):
    found = [t for t in root.iter(f"{NS}text") if t.get("data-key") == key]
    assert found, key
    return found[0].text


# --------------------------------------------------------------------------------------------
# The numbers


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("view", ["forward", "backward", "update"])
def test_every_named_number_is_the_traces_value(target, view):
    step_no = 2 if "3-4-4-2" in target else 1
    svg = tracenn.draw(target, step_no, view=view)
    step = tracenn.step(target, step_no)
    root = parse(svg)
    checked = 0
    for t, text in texts(root):
        names = [n for n in (t.get("data-q") or "").split("|") if n]
        if not names:
            continue
        values = numbers(text)
        assert len(values) >= len(names), (text, names)
        for name, shown in zip(names, values):
            right = step.eta if name == "η" else step[name]
            assert math.isclose(shown, right, abs_tol=0.51e-4, rel_tol=1e-3), (name, text, right)
            checked += 1
    assert checked >= 10


def test_mazur_forward_shows_the_blogs_numbers():
    """Matt Mazur's published figures, rounded to the picture's four decimals."""
    root = parse(tracenn.draw("mazur"))
    assert by_key(root, "n:1:0:1") == "net 0.3775"  # net_h1 = 0.3775
    assert by_key(root, "n:1:0:2") == "out 0.5933"  # out_h1 = 0.593269992
    assert by_key(root, "n:2:0:2") == "out 0.7514"  # out_o1 = 0.75136507
    assert by_key(root, "n:2:1:2") == "out 0.7729"  # out_o2 = 0.772928465
    assert by_key(root, "err:0:2") == "0.2748"  # E_o1 = 0.274811083
    assert by_key(root, "err:1:2") == "0.0236"  # E_o2 = 0.023560026
    assert by_key(root, "total:1") == "0.2984"  # E_total = 0.298371109
    assert by_key(root, "w:2:0:0") == "w5 0.4000"
    assert by_key(root, "bias:1:1") == "0.3500"


def test_mazur_backward_and_update_show_the_blogs_numbers():
    back = parse(tracenn.draw("mazur", view="backward"))
    assert by_key(back, "w:2:0:0") == "∂E/∂w5 0.0822"  # 0.082167041
    assert by_key(back, "n:2:0:2") == "δ 0.1385"  # δ_o1 = 0.138498562
    assert by_key(back, "n:2:0:1") == "∂E/∂out 0.7414"  # 0.74136507
    update = parse(tracenn.draw("mazur", view="update"))
    # issue 22: the update written as the sum a learner checks by hand
    assert by_key(update, "w:2:0:0") == "w5 0.4000 − 0.5·0.0822 = 0.3589"  # w5+ = 0.35891648
    assert by_key(update, "w:1:0:0") == "w1 0.1500 − 0.5·0.0004 = 0.1498"  # w1+ = 0.149780716
    assert by_key(update, "total:1") == "0.2984 → 0.2910"  # 0.291027774 after
    assert "η = 0.5" in by_key(update, "title:1")


def test_precision_option_sets_the_decimals(run, tmp_path):
    out = tmp_path / "m.svg"
    assert run("draw", "mazur", "--precision", "9", "-o", out).exit_code == 0
    assert by_key(parse(out.read_text()), "n:1:0:2") == "out 0.593269992"


def test_batch_step_shows_the_chosen_sample():
    target = str(SPECS / "net-3-4-4-2.toml")
    step = tracenn.step(target, 1)
    root = parse(tracenn.draw(target, view="backward", sample=2))
    assert numbers(by_key(root, "n:1:0:2"))[0] == pytest.approx(step["delta1[1]@2"], abs=0.51e-4)
    assert "sample 2 of 3" in by_key(root, "title:1")


# --------------------------------------------------------------------------------------------
# What a person sees


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("view", ["forward", "backward", "update"])
def test_no_two_labels_overlap(target, view):
    root = parse(tracenn.draw(target, view=view))
    assert overlaps(root) == []


@pytest.mark.parametrize("view", ["forward", "backward", "update"])
def test_every_edge_of_a_4_8_3_network_keeps_its_label(view):
    root = parse(tracenn.draw(str(SPECS / "net-4-8-3.toml"), view=view))
    labels = [t for t in root.iter(f"{NS}text") if t.get("data-key", "").startswith("w:")]
    assert len(labels) == 4 * 8 + 8 * 3


def test_no_labels_overlap_at_nine_decimals():
    root = parse(tracenn.draw(str(SPECS / "net-4-8-3.toml"), view="update", precision=9))
    assert overlaps(root) == []


@pytest.mark.parametrize("target", ["mazur", "xor", "softmax"])
def test_svg_is_self_contained(target):
    svg = tracenn.draw(target)
    root = parse(svg)
    for el in root.iter():
        tag = el.tag.removeprefix(NS)
        assert tag not in ("script", "image", "foreignObject", "use", "style", "a"), tag
        for name, value in el.attrib.items():
            assert "href" not in name, (tag, name)
            assert "url(" not in value and "http" not in value, (tag, name, value)
    assert "@import" not in svg and "http://www.w3.org/2000/svg" in svg


def test_shared_bias_is_one_node_and_per_neuron_bias_sits_with_its_neuron():
    mazur = parse(tracenn.draw("mazur"))
    cards = {r.get("data-key") for r in mazur.iter(f"{NS}rect") if r.get("class") == "bias"}
    assert cards == {"bias:1", "bias:2"}
    assert by_key(mazur, "bias:2:0") == "b2"
    edges = [p.get("data-key") for p in mazur.iter(f"{NS}polyline") if p.get("class") == "bias"]
    assert sorted(edges) == ["sb:1:0", "sb:1:1", "sb:2:0", "sb:2:1"]
    xor = parse(tracenn.draw("xor"))
    assert not [r for r in xor.iter(f"{NS}rect") if r.get("class") == "bias"]
    assert by_key(xor, "n:1:1:3").startswith("b2 ")  # with neuron h2
    assert by_key(xor, "n:2:0:3").startswith("b3 ")


def test_edges_are_coloured_by_sign_and_as_wide_as_the_magnitude():
    from tracenn.render.svg import NEGATIVE, POSITIVE

    step = tracenn.step("softmax")
    root = parse(tracenn.draw("softmax"))
    W = step.layers[0].W
    width = {}
    for p in root.iter(f"{NS}polyline"):
        key = p.get("data-key")
        if p.get("class") == "weight":
            _, l, j, k = key.split(":")
            w = step.layers[int(l) - 1].W[int(j), int(k)]
            assert p.get("stroke") == (POSITIVE if w > 0 else NEGATIVE), key
            width[float(abs(w))] = float(p.get("stroke-width"))
    ordered = [width[m] for m in sorted(width)]
    assert ordered == sorted(ordered) and ordered[0] < ordered[-1]
    assert W[0, 1] < 0  # the preset has both signs


@pytest.mark.parametrize("view, words", [("forward", "forward pass"), ("backward", "backward pass"),
                                         ("update", "update")])
def test_title_names_the_network_step_and_view(view, words):
    root = parse(tracenn.draw("xor", 3, view=view))
    assert by_key(root, "title:0") == "XOR, 2-2-1 logistic network"
    assert by_key(root, "title:1").startswith(f"step 3 · {words}")
    assert root.find(f"{NS}title").text.startswith("XOR")


def test_legend_names_what_the_edges_show():
    root = parse(tracenn.draw("mazur", view="backward"))
    assert by_key(root, "legend:width") == "width ∝ |∂E/∂w|"
    assert "4 decimals" in by_key(root, "foot")


# --------------------------------------------------------------------------------------------
# Wide and too large networks, bad input


def wide_spec(tmp_path, hidden: int) -> Path:
    path = tmp_path / f"wide-{hidden}.toml"
    path.write_text(f"""
[network]
sizes = [2, {hidden}, 1]
activations = ["sigmoid", "sigmoid"]
loss = "half-sse"
init = "uniform"
seed = 1
[training]
learning_rate = 0.5
steps = 1
[data]
inputs = [[0.5, 1.0]]
targets = [[1.0]]
""")
    return path


def test_wide_layer_lists_its_edge_labels_under_the_picture(run, tmp_path):
    # Deliberately changed by issue 22: a layer pair of more than 20 edges no longer drops its
    # labels (with a note) but lists every one of them under the picture, in its edge's colour.
    out = tmp_path / "w.svg"
    result = run("draw", wide_spec(tmp_path, 16), "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    root = parse(out.read_text())
    listed = [t for t in root.iter(f"{NS}text") if t.get("data-key", "").startswith("w:")]
    assert len(listed) == 48
    assert not [r for r in root.iter(f"{NS}rect") if r.get("class") == "label"]  # none on edges
    assert len([p for p in root.iter(f"{NS}polyline") if p.get("class") == "weight"]) == 48
    assert overlaps(root) == []
    assert float(root.get("width")) <= 1000


def test_twelve_wide_layer_keeps_its_labels(run, tmp_path):
    result = run("draw", wide_spec(tmp_path, 12), "-o", tmp_path / "w.svg")
    assert result.exit_code == 0 and result.stderr == ""
    root = parse((tmp_path / "w.svg").read_text())
    assert len([t for t in root.iter(f"{NS}text") if t.get("data-key", "").startswith("w:")]) == 36
    assert overlaps(root) == []


def test_a_layer_whose_labels_never_fit_lists_only_its_own_labels(monkeypatch):
    # Make layer 2's labels never fit (as a crowded layer's might): after the tries, layer 2
    # lists its labels under the picture and layer 1 keeps all four of its labels on the edges.
    from tracenn.render import layout

    place = layout._Builder.place_labels
    monkeypatch.setattr(layout._Builder, "place_labels",
                        lambda self, lay, l, taken: l != 2 and place(self, lay, l, taken))
    root = parse(tracenn.draw("mazur"))
    on_edges = {r.get("data-key") for r in root.iter(f"{NS}rect") if r.get("class") == "label"}
    assert on_edges == {"w:1:0:0", "w:1:0:1", "w:1:1:0", "w:1:1:1"}
    keys = {t.get("data-key", "") for t in root.iter(f"{NS}text")}
    assert {"w:2:0:0", "w:2:0:1", "w:2:1:0", "w:2:1:1", "mcap:2"} <= keys


def one_line(result):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (["--step", "2"], ["beyond the trace", "1 step"]),
    (["--view", "sideways"], ["--view", "forward"]),
    (["--precision", "18"], ["--precision"]),
    (["--sample", "2"], ["sample 2", "1 sample"]),
])
def test_bad_options_give_one_line_and_no_file(run, tmp_path, args, words):
    out = tmp_path / "x.svg"
    line = one_line(run("draw", "mazur", "-o", out, *args))
    for w in words:
        assert w in line
    assert list(tmp_path.iterdir()) == []


def test_too_large_a_network_is_refused(run, tmp_path):
    line = one_line(run("draw", wide_spec(tmp_path, 784), "-o", tmp_path / "x.svg"))
    assert "784" in line and "at most 32" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide-784.toml"]


def test_unwritable_output_fails_cleanly_and_keeps_the_old_file(run, tmp_path):
    line = one_line(run("draw", "mazur", "-o", tmp_path / "no" / "such" / "x.svg"))
    assert "cannot write" in line
    (tmp_path / "folder.svg").mkdir()
    assert "is a folder" in one_line(run("draw", "mazur", "-o", tmp_path / "folder.svg"))
    keep = tmp_path / "keep.svg"
    keep.write_text("old")
    one_line(run("draw", "mazur", "--step", "9", "-o", keep))
    assert keep.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.svg", "keep.svg"]


def test_steps_extends_the_trace(run):
    result = run("draw", "mazur", "--step", "3", "--steps", "3")
    assert result.exit_code == 0
    assert by_key(parse(result.stdout), "title:1").startswith("step 3")


def test_draw_does_not_import_sympy(tmp_path):
    code = ("import sys; from tracenn.cli import main; sys.argv = ['tracenn', 'draw', 'mazur', "
            f"'-o', {str(tmp_path / 'x.svg')!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'sympy' not in sys.modules, 'tracenn draw imported SymPy'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "x.svg").exists()


def test_api_rejects_an_unknown_view():
    with pytest.raises(tracenn.OptionError, match="unknown view"):
        tracenn.draw("mazur", view="sideways")


# --------------------------------------------------------------------------------------------
# Walkthrough figures


def test_walkthrough_writes_and_embeds_its_pictures(run, tmp_path):
    out = tmp_path / "m.md"
    assert run("walkthrough", "mazur", "-o", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "](m-forward.svg)" in text and "](m-backward.svg)" in text
    assert text.index("m-backward.svg") > text.index("The backward pass")
    for view in ("forward", "backward"):
        assert (tmp_path / f"m-{view}.svg").read_text() == run("draw", "mazur", "--view", view).stdout
    assert ".svg" not in run("walkthrough", "mazur").stdout  # printed: no files to point at


def test_committed_walkthroughs_point_at_committed_pictures():
    for name in ("mazur", "xor", "softmax"):
        text = (ROOT / "walkthroughs" / f"{name}.md").read_text(encoding="utf-8")
        for view in ("forward", "backward"):
            assert f"]({name}-{view}.svg)" in text
            assert parse((ROOT / "walkthroughs" / f"{name}-{view}.svg").read_text())


# --------------------------------------------------------------------------------------------
# compare --draw


def draw_comparison(run, tmp_path, rows: str, *args):
    values = tmp_path / "mine.csv"
    values.write_text(rows)
    out = tmp_path / "c.svg"
    result = run("compare", "mazur", "--values", values, "--draw", out, *args)
    assert result.exit_code in (0, 1), result.stderr
    root = parse(out.read_text())
    marked = {t.get("data-key"): (t.text, t.get("fill")) for t in root.iter(f"{NS}text")
              if t.get("fill") in (WRONG_COLOUR, RIGHT_COLOUR)}
    return root, marked


from tracenn.render.svg import RIGHT as RIGHT_COLOUR, WRONG as WRONG_COLOUR  # noqa: E402


def test_compare_draw_marks_the_first_wrong_number_and_its_right_inputs(run, tmp_path):
    # dE/dout_h1 = delta_o1·w5 + delta_o2·w7 = 0.036350306 (Mazur); the learner's is wrong
    root, marked = draw_comparison(
        run, tmp_path, "delta_o1,0.138498562\ndelta_o2,-0.038098236\ndE/dout_h1,0.05\n")
    assert root.get("data-view") == "backward"
    text, colour = marked["n:1:0:1"]
    assert colour == WRONG_COLOUR and text == "∂E/∂out 0.0500 ✗ (right 0.0364)"
    assert marked["n:2:0:2"] == ("δ 0.1385 ✓", RIGHT_COLOUR)
    assert marked["n:2:1:2"] == ("δ -0.0381 ✓", RIGHT_COLOUR)
    assert len(marked) == 3
    wrong_card = [r for r in root.iter(f"{NS}rect") if r.get("data-key") == "n:1:0"][0]
    assert wrong_card.get("stroke") == WRONG_COLOUR
    note = by_key(root, "note:0")
    assert "dE/dout_h1" in note and "0.0500" in note and "0.0364" in note
    assert "delta_o1 right" in by_key(root, "note:1") and "w5 given" in by_key(root, "note:1")
    assert overlaps(root) == []


def test_compare_draw_shows_enough_decimals_to_tell_the_numbers_apart(run, tmp_path):
    root, marked = draw_comparison(run, tmp_path, "out_h1,0.59331\n")
    assert root.get("data-view") == "forward"
    assert marked["n:1:0:2"][0] == "out 0.59331 ✗ (right 0.59327)"


def test_compare_draw_of_right_numbers_says_they_match(run, tmp_path):
    root, marked = draw_comparison(run, tmp_path, "out_h1,0.593269992\nw5,0.35891648\n")
    assert marked == {}
    assert by_key(root, "note:0") == "every one of the 2 values you gave matches"


def test_compare_draw_to_an_unwritable_place_fails_in_one_line(run, tmp_path):
    values = tmp_path / "mine.csv"
    values.write_text("out_h1,0.5\n")
    line = one_line(run("compare", "mazur", "--values", values, "--draw", tmp_path / "no" / "c.svg"))
    assert "cannot write" in line


# --------------------------------------------------------------------------------------------
# Notebook display


def test_a_step_and_a_spec_show_their_picture_in_a_notebook():
    step = tracenn.step("xor", 2)
    root = parse(step._repr_svg_())
    assert by_key(root, "title:1").startswith("step 2 · forward pass")
    assert "<svg" in step._repr_html_() and "<table>" in step._repr_html_()
    spec = tracenn.load("mazur")
    root = parse(spec._repr_svg_())
    shown = {t.get("data-q"): t.text for t in root.iter(f"{NS}text") if t.get("data-q")}
    assert shown["w6"] == "w6 0.4500" and shown["b2"] == "0.6000"
    assert overlaps(root) == []


def test_a_network_too_large_to_draw_shows_its_tables_only(tmp_path):
    spec = tracenn.load(wide_spec(tmp_path, 40))
    assert spec._repr_svg_() is None
    step = tracenn.step(spec)
    assert step._repr_svg_() is None and "<svg" not in step._repr_html_()


def test_update_view_shows_the_optimizers_state_when_it_keeps_one():
    """Adam's update on two lines (issue 22): m̂ and v̂, then w − η·m̂/(√v̂ + ε) = w⁺, each
    number the trace's, the step recomputed here from m̂ and v̂."""
    step = tracenn.step("mazur", 2, optimizer="adam", lr=0.01)
    root = parse(tracenn.draw("mazur", 2, steps=2, view="update", optimizer="adam", lr=0.01))
    first, text = by_key(root, "ws:2:0:0"), by_key(root, "w:2:0:0")
    terms, layer = step.layers[1].update_W.terms, step.layers[1]
    m_hat, v_hat = numbers(first)
    assert m_hat == pytest.approx(terms["m_hat"][0, 0], abs=0.51e-4)
    # one number format per picture (issue 22): v̂, tiny, reads at the picture's 4 decimals
    assert v_hat == pytest.approx(terms["v_hat"][0, 0], abs=0.51e-4) and "e-" not in first
    old, size, new = numbers(text.replace("w5", ""))
    by_hand = 0.01 * terms["m_hat"][0, 0] / (math.sqrt(terms["v_hat"][0, 0]) + 1e-8)
    assert size == pytest.approx(abs(by_hand), abs=0.51e-4)
    assert (old, new) == (pytest.approx(layer.W[0, 0], abs=0.51e-4),
                          pytest.approx(layer.W_new[0, 0], abs=0.51e-4))
    assert "e-" not in text
    assert "Adam, η = 0.01" in by_key(root, "title:1")
    assert overlaps(root) == []


def test_compare_draw_shows_the_sample_of_the_wrong_number(tmp_path):
    target = str(SPECS / "net-3-4-4-2.toml")
    step = tracenn.step(target)
    result = tracenn.compare(target, {"a1[2]@3": step["a1[2]@3"] + 0.1})
    root = parse(tracenn.draw(target, comparison=result))
    assert "sample 3 of 3" in by_key(root, "title:1")
    assert "✗" in by_key(root, "n:1:1:2")
