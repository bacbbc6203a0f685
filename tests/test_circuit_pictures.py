"""The circuit's pictures (issue 23): the SVG of `tracenn graph … --svg`, its page and its
notebook display.  The numbers on the drawing are read back from the SVG and compared with
the trace and with CS231n's published numbers; the labels' boxes must not overlap."""

import itertools
import xml.etree.ElementTree as ET

import pytest

import tracenn
from tracenn.circuits.layout import circuit_layout, depths
from tracenn.render.circuit_svg import circuit_svg

SVG = "{http://www.w3.org/2000/svg}"
CS231N = ("(x + y) * z", {"x": -2, "y": 5, "z": -4})
PROGRAM = "a = x\nb = y\nc = a + b\nd = a*b + b**3\nc += c + 1\ne = (b - a).relu()\nf = e * d + c\n"


def circuits():
    yield tracenn.graph(*CS231N[:1], **CS231N[1])
    yield tracenn.graph("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
                        w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    yield tracenn.graph(PROGRAM, x=-4, y=2)
    yield tracenn.graph("max(x, y) * x + x * x", x=3, y=-1)
    yield tracenn.graph("mazur", neuron="o1")
    yield tracenn.graph("mazur", neuron="h1")


def texts(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {t.get("data-key"): t for t in root.iter(f"{SVG}text")}


def test_cs231n_numbers_on_the_backward_drawing():
    """CS231n's figure: -2, 5, -4 on the inputs' wires, 3 after the add gate, -12 out; the
    gradients -4, -4 (x, y), 3 (z), -4 into the mul gate from q, 1 at the output."""
    t = texts(circuit_svg(tracenn.graph(CS231N[0], **CS231N[1]), "backward"))
    shown = {k: float(e.text) for k, e in t.items() if k[:2] in ("v:", "d:")}
    assert shown == {"v:g1.0": -2, "d:g1.0": -4, "v:g1.1": 5, "d:g1.1": -4,
                     "v:g2.0": 3, "d:g2.0": -4, "v:g2.1": -4, "d:g2.1": 3,
                     "v:out": -12, "d:out": 1}
    assert t["s:g1"].text == "+" and t["s:g2"].text == "×"
    assert [t[f"n:i{i}"].text for i in (1, 2, 3)] == ["x", "y", "z"]


def test_the_forward_view_has_values_and_no_gradients():
    t = texts(circuit_svg(tracenn.graph(CS231N[0], **CS231N[1]), "forward"))
    assert not [k for k in t if k.startswith("d:")]
    assert float(t["v:out"].text) == -12 and t["v:out"].get("fill") != "#c00000"


def test_the_picture_carries_its_own_key_to_the_colours():
    """Cut out of its page, the SVG still says green is a value and red a gradient: the key's
    texts wear the colours of the numbers they describe, below every other label."""
    trace = tracenn.graph(CS231N[0], **CS231N[1])
    back = texts(circuit_svg(trace, "backward"))
    assert back["l:value"].text == "value above each wire"
    assert back["l:value"].get("fill") == back["v:out"].get("fill")
    assert back["l:grad"].text == "gradient below it"
    assert back["l:grad"].get("fill") == back["d:out"].get("fill") != back["l:value"].get("fill")
    lowest = max(float(e.get("y")) for k, e in back.items() if not k.startswith("l:"))
    assert float(back["l:value"].get("y")) > lowest + 11
    assert "l:grad" not in texts(circuit_svg(trace, "forward"))  # no gradients, no red key


@pytest.mark.parametrize("view", ["forward", "backward"])
def test_the_svgs_equal_the_committed_goldens(view):
    from pathlib import Path

    golden = Path(__file__).parent / "golden" / f"circuit-cs231n-{view}.svg"
    assert circuit_svg(tracenn.graph(CS231N[0], **CS231N[1]), view) == \
        golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("trace", list(circuits()), ids=lambda t: t.program[:20])
def test_every_number_on_the_drawing_is_the_traces(trace):
    """Each wire's value is its source node's value and its gradient what the gate it feeds
    sent back at that input (found here from the trace's own records)."""
    t = texts(circuit_svg(trace, "backward"))
    sent = {(b.gate, i): s.downstream for b in trace.backward for i, s in enumerate(b.locals)}
    for g in trace.gates:
        for i, a in enumerate(g.args):
            assert float(t[f"v:{g.id}.{i}"].text) == pytest.approx(trace.node(a).value, abs=5e-5)
            assert float(t[f"d:{g.id}.{i}"].text) == pytest.approx(sent[g.id, i], abs=5e-5)
    assert float(t["v:out"].text) == pytest.approx(trace.value, abs=5e-5)
    assert float(t["d:out"].text) == 1.0
    count = sum(len(g.args) for g in trace.gates) + 1
    assert len([k for k in t if k.startswith("v:")]) == len([k for k in t if k[:2] == "d:"]) \
        == count


def overlaps(layout) -> list[tuple[str, str]]:
    boxes = [(lab.key, lab.box()) for lab in layout.labels]
    boxes += [(p.id, (p.x - p.w / 2, p.y - p.h / 2, p.x + p.w / 2, p.y + p.h / 2))
              for p in layout.places]
    out = []
    for (k1, a), (k2, b) in itertools.combinations(boxes, 2):
        if k1.endswith(k2) or k2.endswith(k1):  # a node's own name or symbol inside it
            continue
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
            out.append((k1, k2))
    return out


@pytest.mark.parametrize("trace", list(circuits()), ids=lambda t: t.program[:20])
def test_labels_do_not_overlap_and_stay_on_the_canvas(trace):
    lay = circuit_layout(trace)
    assert overlaps(lay) == []
    for lab in lay.labels:
        left, top, right, bottom = lab.box()
        assert 0 <= left and right <= lay.width and 0 <= top and bottom <= lay.height, lab.key


def test_the_overlap_check_can_fail():
    lay = circuit_layout(tracenn.graph(CS231N[0], **CS231N[1]))
    moved = lay.label("d:g1.0")
    moved.y = lay.label("v:g1.0").y + 3
    assert ("v:g1.0", "d:g1.0") in overlaps(lay)


@pytest.mark.parametrize("trace", list(circuits()), ids=lambda t: t.program[:20])
def test_inputs_on_the_left_every_gate_right_of_what_it_reads(trace):
    lay = circuit_layout(trace)
    x = {p.id: p.x for p in lay.places}
    col = depths(trace)
    for g in trace.gates:
        assert all(x[a] < x[g.id] and col[a] < col[g.id] for a in g.args), g.id
    assert max(x[n.id] for n in trace.inputs) < min(x[g.id] for g in trace.gates)
    assert x[trace.output] == max(x.values())


def test_cli_writes_the_svg_atomically_and_refuses_a_missing_folder(run, tmp_path):
    path = tmp_path / "f.svg"
    result = run("graph", CS231N[0], "--at", "x=-2,y=5,z=-4", "--svg", path, "--view", "forward")
    assert result.exit_code == 0, result.stderr
    assert "Backward pass" in result.stdout  # the tables still printed
    assert path.read_text(encoding="utf-8") == circuit_svg(
        tracenn.graph(CS231N[0], **CS231N[1]), "forward")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    bad = run("graph", CS231N[0], "--at", "x=-2,y=5,z=-4", "--svg", tmp_path / "no" / "f.svg")
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "does not exist" in bad.stderr


# The page, in a real browser (the fixture and the page opener of test_html.py)
from test_html import browser, open_page  # noqa: E402,F401


def visible_numbers(driver) -> dict[str, float]:
    return driver.execute_script(
        "const out = {};"
        "document.querySelectorAll('#picture text[data-key]').forEach(t => {"
        "  const k = t.dataset.key;"
        "  if ((k.startsWith('v:') || k.startsWith('d:')) &&"
        "      getComputedStyle(t).visibility !== 'hidden') out[k] = Number(t.textContent); });"
        "return out;")


def key_shows_gradients(driver) -> bool:
    return driver.execute_script(
        "const t = document.querySelector(\"#picture text[data-key='l:grad']\");"
        "return getComputedStyle(t).visibility !== 'hidden';")


def lit(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#picture .lit')).map(e => e.dataset.key)")


@pytest.fixture(scope="module")
def cs231n_page(tmp_path_factory):
    from tracenn.cli import cli
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("circuit") / "f.html"
    result = CliRunner().invoke(cli, ["graph", CS231N[0], "--at", "x=-2,y=5,z=-4", "--html",
                                      str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_the_page_plays_forward_then_backward_one_gate_a_step(browser, cs231n_page):
    url, requested = open_page(browser, cs231n_page)
    assert requested == [url]  # nothing from elsewhere
    label = lambda: browser.find_element("id", "step-label").text  # noqa: E731
    arith = lambda: browser.find_element("id", "arith").text  # noqa: E731
    nxt = browser.find_element("id", "next")
    # 1: the inputs' values on their wires, nothing else
    assert label().startswith("step 1 of 7")
    assert visible_numbers(browser) == {"v:g1.0": -2, "v:g1.1": 5, "v:g2.1": -4}
    assert not key_shows_gradients(browser)  # the key names no gradient before there is one
    nxt.click()  # 2: the add gate: q = x + y = 3
    assert "g1 = x + y = (-2.0000) + 5.0000 = 3.0000" in arith()
    assert visible_numbers(browser)["v:g2.0"] == 3 and "d:out" not in visible_numbers(browser)
    assert set(lit(browser)) == {"g1", "g2.0"}
    nxt.click()  # 3: the mul gate: f = 3 × -4 = -12
    assert "f = g1 * z = 3.0000 * (-4.0000) = -12.0000" in arith()
    assert visible_numbers(browser)["v:out"] == -12
    nxt.click()  # 4: the backward pass starts with ∂f/∂f = 1
    assert label().endswith("(backward)") and visible_numbers(browser)["d:out"] == 1
    assert key_shows_gradients(browser)
    nxt.click()  # 5: the mul gate swaps: ∂f/∂q = z = -4, ∂f/∂z = q = 3
    assert "∂f/∂g1 = z = -4.0000;  downstream = -4.0000 × 1.0000 = -4.0000" in arith()
    assert "∂f/∂z = g1 = 3.0000;  downstream = 3.0000 × 1.0000 = 3.0000" in arith()
    shown = visible_numbers(browser)
    assert shown["d:g2.0"] == -4 and shown["d:g2.1"] == 3 and "d:g1.0" not in shown
    nxt.click()  # 6: the add gate distributes -4 to x and y
    shown = visible_numbers(browser)
    assert shown["d:g1.0"] == shown["d:g1.1"] == -4
    nxt.click()  # 7: the gradients, checked
    assert "∂f/∂x = -4.0000" in arith() and "∂f/∂z = 3.0000" in arith()
    assert "Verified" in arith()
    assert browser.current_url.endswith("#step=7")


def test_the_address_opens_a_step_and_the_keys_move(browser, cs231n_page):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, cs231n_page, "#step=5")
    assert browser.find_element("id", "step-label").text.startswith("step 5 of 7")
    browser.find_element("tag name", "body").send_keys(Keys.ARROW_LEFT)
    assert browser.find_element("id", "step-label").text.startswith("step 4 of 7")
    assert "d:g2.0" not in visible_numbers(browser)


@pytest.mark.parametrize("width", [1400, 400])
def test_the_page_fits_the_window(browser, tmp_path, width):
    """At a phone's width the page does not scroll sideways (the picture may, in its box)."""
    path = tmp_path / "h1.html"
    from tracenn.render.circuit_html import circuit_page

    path.write_text(circuit_page(tracenn.graph("mazur", neuron="h1")), encoding="utf-8")
    browser.set_window_size(width, 900)
    try:
        open_page(browser, path)
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 0
        svg_w = browser.execute_script(
            "return document.querySelector('#picture svg').getBoundingClientRect().width")
        assert svg_w >= circuit_layout(tracenn.graph("mazur", neuron="h1")).width - 1
        # every label of the picture is drawn at 11 px or more (a phone pans, never shrinks it)
        smallest = browser.execute_script(
            "return Math.min(...Array.from(document.querySelectorAll('#picture svg text'))"
            ".map(t => t.getBoundingClientRect().height))")
        assert smallest >= 11 * 0.95  # a text's box is about its font size tall
    finally:
        browser.set_window_size(1500, 1100)


def test_a_notebook_shows_the_picture_above_the_tables():
    trace = tracenn.graph(CS231N[0], **CS231N[1])
    page = trace._repr_html_()
    assert page.index("<svg") < page.index("Forward pass") < page.index("Backward pass") \
        < page.index("Gradient of every input")
    assert circuit_svg(trace, "backward") in page  # the same picture, gradients shown
    tables = page[page.index("</svg>"):]
    assert tables.count("<table>") == 3 and "<td>-12.000000000</td>" in tables
    assert "Verified" in tables


def test_a_notebook_shows_the_picture_when_jupyter_runs_it(tmp_path):
    """In a real kernel (nbclient): the cell's text/html output holds the SVG and tables."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import tracenn\ntracenn.graph('(x + y) * z', x=-2, y=5, z=-4)")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert "<svg" in html and 'data-key="v:out"' in html and "<table>" in html


# The walkthrough (Markdown with LaTeX), its formulas rendered by MathJax and KaTeX
def test_the_walkthrough_writes_the_chain_rule_in_numbers():
    from tracenn.render.circuit_markdown import circuit_walkthrough

    text = circuit_walkthrough(tracenn.graph(CS231N[0], **CS231N[1]))
    assert "f = g_{1} \\cdot z = 3.0000 \\cdot (-4.0000) = (-12.0000)" in text
    assert "g_{1} = x + y = (-2.0000) + 5.0000 = 3.0000" in text
    # the mul gate swaps its inputs; the add gate hands -4 on to x and to y
    assert ("\\frac{\\partial f}{\\partial z} = \\frac{\\partial f}{\\partial f} \\, "
            "\\frac{\\partial f}{\\partial z} = 1.0000 \\cdot 3.0000 = 3.0000") in text
    assert ("\\frac{\\partial f}{\\partial x} = \\frac{\\partial f}{\\partial g_{1}} \\, "
            "\\frac{\\partial g_{1}}{\\partial x} = (-4.0000) \\cdot 1.0000 = (-4.0000)") in text
    assert "Verified" in text


def test_the_walkthrough_says_where_a_gradient_accumulates():
    from tracenn.render.circuit_markdown import circuit_walkthrough

    text = circuit_walkthrough(tracenn.graph("c = a + b\nc += c + 1\nd = 2.0 * c", a=1, b=2))
    # by hand: d = 2(2(a + b) + 1), so ∂d/∂c (the first c) = 2 + 2 = 4
    assert "\\frac{\\partial d}{\\partial c} \\mathrel{+}=" in text
    assert "\\frac{\\partial d}{\\partial c} = 2.0000 + 2.0000 = 4.0000" in text


@pytest.mark.parametrize("trace", list(circuits()), ids=lambda t: t.program[:20])
def test_the_walkthroughs_formulas_render(trace):
    from test_latex_render import failures, walkthrough_blocks
    from tracenn.render.circuit_markdown import circuit_walkthrough

    items = walkthrough_blocks(trace.program[:20], circuit_walkthrough(trace))
    assert len(items) > len(trace.gates)
    assert failures(items) == []


def test_cli_writes_the_walkthrough_with_its_pictures(run, tmp_path):
    path = tmp_path / "f.md"
    result = run("graph", CS231N[0], "--at", "x=-2,y=5,z=-4", "--walkthrough", path)
    assert result.exit_code == 0, result.stderr
    text = path.read_text(encoding="utf-8")
    trace = tracenn.graph(CS231N[0], **CS231N[1])
    for view in ("forward", "backward"):
        assert f"](f-{view}.svg)" in text
        assert (tmp_path / f"f-{view}.svg").read_text(encoding="utf-8") == circuit_svg(trace, view)
    printed = run("graph", CS231N[0], "--at", "x=-2,y=5,z=-4", "--walkthrough", "-")
    assert printed.stdout.startswith("# Walkthrough") and "](" not in printed.stdout
