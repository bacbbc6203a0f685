"""The step player tells the truth (issue 22): it keeps whole epochs, its loss curve has one
series per sample whose numbers are the trace's (checked against `tracenn trace --json`), its
axes fit the data with round ticks; in a real browser the old and new values are in sight at
1,400 px, a number under the pointer is lit with its formula, and on a 400 px phone the text
is at least 11 px with the picture at its natural size to pan and zoom.
"""

import json
import math
import re
from html import unescape

import pytest

import tracenn

from test_html import browser, open_page  # noqa: F401  (the fixture, shared)


def view_of(page: str) -> dict:
    return json.loads(re.search(r'id="tracenn-view">(.*?)</script>', page, re.S).group(1))


def trace_json(run, *args) -> list[dict]:
    result = run("trace", *args, "--every", "1", "--json")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_xor_series_hold_every_samples_loss_at_the_kept_epochs(run):
    view = view_of(tracenn.html("xor", 400, every=25))
    trace = {o["step"]: o for o in trace_json(run, "xor", "--steps", "400")}
    series = view["loss_series"]
    kept_epochs = {1, 25, 50, 75, 100}
    assert {trace[s]["epoch"] for s in view["steps"]} == kept_epochs
    for k in range(4):  # sample k+1 at each kept epoch: the step of that epoch that took it
        want = [[s, trace[s]["losses"]["E_total"]] for s in sorted(trace)
                if trace[s]["epoch"] in kept_epochs and trace[s]["samples"] == [k]]
        assert len(want) == 5
        got = series[f"sample {k + 1}"]
        assert [p[0] for p in got] == [p[0] for p in want]
        assert [p[1] for p in got] == pytest.approx([p[1] for p in want], abs=1e-12)
    means = dict(map(tuple, series["epoch mean E_total"]))
    for epoch in (1, 50, 100):
        losses = [o["loss"] for o in trace.values() if o["epoch"] == epoch]
        assert means[4 * epoch] == pytest.approx(sum(losses) / 4, abs=1e-12)


MINIBATCH = """
[network]
sizes = [2, 2, 1]
activations = ["sigmoid", "sigmoid"]
loss = "mse"
seed = 3
[training]
learning_rate = 0.5
mode = "mini-batch"
batch_size = 2
steps = 6
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [[0], [1], [1], [0]]
"""


def test_minibatch_series_have_each_sample_of_each_batch(run, tmp_path):
    spec = tmp_path / "mb.toml"
    spec.write_text(MINIBATCH)
    view = view_of(tracenn.html(str(spec), 6, every=1))
    trace = trace_json(run, spec, "--steps", "6")
    assert view["steps"] == [1, 2, 3, 4, 5, 6] and all(len(o["samples"]) == 2 for o in trace)
    for k in range(4):
        got = view["loss_series"][f"sample {k + 1}"]
        assert [p[0] for p in got] == [o["step"] for o in trace if k in o["samples"]]
    # the batch's loss is the mean of its two samples' losses, as the trace says
    at = {k: dict(map(tuple, view["loss_series"][f"sample {k + 1}"])) for k in range(4)}
    for o in trace:
        mean = sum(at[k][o["step"]] for k in o["samples"]) / 2
        assert mean == pytest.approx(o["loss"], abs=1e-12)


def ticks(svg: str) -> tuple[list[float], list[float]]:
    """The chart's y tick labels (right-aligned) and x tick labels (centred)."""
    ys = [float(t) for t in re.findall(r'text-anchor="end" fill="#4a5568">([-\d.e]+)<', svg)]
    xs = [float(t) for t in re.findall(r'text-anchor="middle" fill="#4a5568">([^<]+)<', svg)]
    return ys, xs


def curve_of(page: str) -> str:
    return unescape(re.search(r'<div id="curve">(.*?)</div>', page, re.S).group(1))


def test_mazur_one_step_has_a_fitted_axis(run, tmp_path):
    out = tmp_path / "m.html"
    assert run("html", "mazur", "--steps", "1", "-o", out).exit_code == 0
    ys, xs = ticks(curve_of(out.read_text(encoding="utf-8")))
    loss = 0.298371109  # Mazur's E_total before the first update
    assert xs == [1.0]
    assert ys == pytest.approx([0.26, 0.28, 0.30, 0.32, 0.34])
    assert ys[0] < loss < ys[-1]


def test_xor_axis_covers_every_series_with_round_ticks():
    page = tracenn.html("xor", 400, every=25)
    ys, xs = ticks(curve_of(page))
    values = [p[1] for pts in view_of(page)["loss_series"].values() for p in pts]
    assert ys[0] <= min(values) and max(values) <= ys[-1]
    gap = ys[1] - ys[0]
    assert all(abs((b - a) - gap) < 1e-9 for a, b in zip(ys, ys[1:]))
    assert round(gap / 10 ** math.floor(math.log10(gap)), 6) in (1, 2, 5)  # 1, 2 or 5 × 10^n
    assert xs == [100, 200, 300, 400]


# --------------------------------------------------------------------------------------------
# In a real browser: 1,400 px and a 400 px phone


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("player")
    (folder / "mazur.html").write_text(tracenn.html("mazur", 3), encoding="utf-8")
    (folder / "xor.html").write_text(tracenn.html("xor", 400, every=25), encoding="utf-8")
    (folder / "adam.html").write_text(tracenn.html("mazur", 3, optimizer="adam", lr=0.01),
                                      encoding="utf-8")
    return folder


def at_width(driver, width: int, height: int, phone: bool = False):
    """The page's viewport `width` px wide (a phone's, with its viewport meta, if `phone`)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone})


@pytest.fixture
def wide(browser):
    at_width(browser, 1400, 1000)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture
def phone(browser):
    at_width(browser, 400, 900, phone=True)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


OUT_OF_SIGHT = """
const cells = Array.from(document.querySelectorAll('#tables th, #tables td'))
  .filter(c => arguments[0].includes(
      c.closest('table').tHead.rows[0].cells[c.cellIndex].textContent));
return [cells.length, innerWidth, cells.filter(c => {
  const r = c.getBoundingClientRect(), box = c.closest('figure').getBoundingClientRect();
  return r.width === 0 || r.right > box.right || r.right > innerWidth;
}).map(c => c.textContent)];
"""
OLD_NEW = ["old value", "new value"]
CHAIN = ["∂E/∂out", "∂out/∂net", "δ = ∂E/∂net", "∂net/∂w", "∂E/∂w"]


@pytest.mark.parametrize("name", ["mazur", "xor", "adam"])
@pytest.mark.parametrize("phase", ["forward", "error", "update"])
def test_old_and_new_values_are_in_sight_at_1400_px(wide, pages, name, phase):
    open_page(wide, pages / f"{name}.html", f"#step=3&phase={phase}")
    count, width, hidden = wide.execute_script(OUT_OF_SIGHT, OLD_NEW)
    assert width == 1400 and count >= 8 and hidden == []
    assert wide.execute_script("return document.documentElement.scrollWidth") <= 1400
    # the controls stay put from step to step (no reflow)
    before = wide.execute_script("return document.getElementById('slider').getBoundingClientRect().x")
    wide.find_element("id", "next").click()
    assert wide.execute_script(
        "return document.getElementById('slider').getBoundingClientRect().x") == before


@pytest.mark.parametrize("name", ["mazur", "xor"])
def test_the_backward_phase_has_the_chain_in_sight_at_1400_px(wide, pages, name):
    open_page(wide, pages / f"{name}.html", "#step=3&phase=backward")
    count, width, hidden = wide.execute_script(OUT_OF_SIGHT, CHAIN)
    assert count >= 5 * 4 and hidden == []


def test_pointer_on_a_weight_lights_its_row_and_shows_its_formula(wide, pages):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(wide, pages / "mazur.html", "#step=1&phase=update")
    label = wide.find_element("css selector", "svg[data-view='update'] text[data-key='w:2:0:0']")
    ActionChains(wide).move_to_element(label).perform()
    lit = wide.execute_script("return Array.from(document.querySelectorAll('#tables tr.lit'))"
                              ".map(r => r.cells[0].textContent)")
    assert lit == ["w5 (h1→o1)"] and "lit" in label.get_attribute("class")
    tip = wide.find_element("id", "tip")
    assert tip.is_displayed()
    # Mazur's published step: ∂E/∂out_o1 0.74136507, ∂out/∂net 0.186815602, δ 0.138498562,
    # out_h1 0.593269992, ∂E/∂w5 0.082167041, w5 0.4 → 0.35891648 with η = 0.5
    assert tip.text == ("w5: δ = ∂E/∂out · ∂out/∂net = 0.7414 · 0.1868 = 0.1385; "
                        "∂E/∂w = δ · ∂net/∂w = 0.1385 · 0.5933 = 0.0822; "
                        "new = old − η · ∂E/∂w = 0.4000 − 0.5 · 0.0822 = 0.3589")
    # and the other way: the pointer on a row lights the weight's number on the picture
    row = wide.find_element("css selector", "#tables figure[data-key='backward:1'] tr[data-name='w3']")
    ActionChains(wide).move_to_element(row).perform()
    assert wide.execute_script("return Array.from(document.querySelectorAll('#diagram text.lit'))"
                               ".filter(t => t.closest('svg').style.display !== 'none')"
                               ".map(t => t.dataset.key)") == ["w:1:1:0"]
    assert tip.text.startswith("w3: δ = ∂E/∂out · ∂out/∂net = ")


SMALLEST_TEXT = """
let least = [99, ''];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode, el = node.parentElement;
  if (!node.textContent.trim() || el.closest('script, style, option')) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || el.closest('[hidden]')) continue;
  let px = parseFloat(getComputedStyle(el).fontSize);
  const svg = el.closest('svg');
  if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
    px *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  }
  if (px < least[0]) least = [px, node.textContent.trim().slice(0, 40)];
}
return least;
"""


@pytest.mark.parametrize("phase", ["forward", "backward", "update"])
def test_phone_text_is_at_least_11_px_and_the_picture_pans_and_zooms(phone, pages, phase):
    open_page(phone, pages / "xor.html", f"#step=2&phase={phase}")
    assert phone.execute_script("return innerWidth") == 400
    px, where = phone.execute_script(SMALLEST_TEXT)
    assert px >= 11 - 1e-6, (px, where)
    # compact controls: at most a seventh of the screen, and the page is not wider than it
    assert phone.execute_script("return document.getElementById('controls').offsetHeight") <= 900 / 7
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 400
    box = "document.getElementById('picture')"
    assert phone.execute_script(f"return {box}.scrollWidth > {box}.clientWidth")
    phone.execute_script(f"{box}.scrollLeft = 120")
    assert phone.execute_script(f"return {box}.scrollLeft") == 120
    width = "return Array.from(document.querySelectorAll('#picture svg'))" \
            ".find(s => s.style.display !== 'none').getBoundingClientRect().width"
    before = phone.execute_script(width)
    phone.find_element("id", "zoom-in").click()
    assert phone.execute_script(width) == pytest.approx(before * 1.25, abs=1)
    phone.find_element("id", "zoom-out").click()
    assert phone.execute_script(width) == pytest.approx(before, abs=1)


def visible_text(driver, key: str) -> str:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(`#diagram text[data-key='${arguments[0]}']`))"
        ".filter(t => t.closest('svg').style.display !== 'none').map(t => t.textContent).join()", key)


def test_a_batch_is_pictured_sample_by_sample(wide, pages, run, tmp_path):
    spec = tmp_path / "mb.toml"
    spec.write_text(MINIBATCH)
    page = tmp_path / "mb.html"
    page.write_text(tracenn.html(str(spec), 6, every=1), encoding="utf-8")
    step2 = trace_json(run, spec, "--steps", "2")[1]
    open_page(wide, page, "#step=2")
    label = wide.find_element("id", "sample-label")
    for i in range(2):  # the batch of step 2 is rows 3 and 4 of the data, in this order
        assert label.text == f"sample {i + 1} of 2 (row {step2['samples'][i] + 1})"
        assert [visible_text(wide, f"in:{k}:1") for k in range(2)] == \
            [f"{x:.4f}" for x in step2["inputs"][i]]
        z = step2["layers"][0]["z"][i]
        assert visible_text(wide, "n:1:0:1") == f"z {z[0]:.4f}"
        assert visible_text(wide, "n:1:1:1") == f"z {z[1]:.4f}"
        wide.find_element("id", "sample-next").click()
    assert label.text.startswith("sample 1 of 2")  # round again
    wide.find_element("id", "sample-next").click()
    assert wide.current_url.endswith("#step=2&sample=2")  # the link names the sample shown
    open_page(wide, page, "#step=2&sample=2")
    label = wide.find_element("id", "sample-label")
    assert label.text == f"sample 2 of 2 (row {step2['samples'][1] + 1})"
    assert [visible_text(wide, f"in:{k}:1") for k in range(2)] == \
        [f"{x:.4f}" for x in step2["inputs"][1]]
    open_page(wide, page, "#step=2&sample=9")  # past the batch: its last sample
    assert wide.find_element("id", "sample-label").text.startswith("sample 2 of 2")
    open_page(wide, pages / "xor.html", "#step=2")
    assert not wide.find_element("id", "sample-box").is_displayed()  # online: one a step


def test_a_long_full_batch_run_keeps_about_200_pictures(tmp_path):
    spec = tmp_path / "fb.toml"
    spec.write_text(MINIBATCH.replace('mode = "mini-batch"\nbatch_size = 2', 'mode = "batch"'))
    page = tracenn.html(str(spec), 1000)
    view = view_of(page)
    pictures = sum(len(b) for b in view["samples"])
    assert all(len(b) == 4 for b in view["samples"]) and 190 <= pictures <= 210, pictures
    assert len(page.encode("utf-8")) < 2_000_000


def test_the_curve_marker_sits_on_the_pictured_samples_dot(wide, tmp_path):
    spec = tmp_path / "mb.toml"
    spec.write_text(MINIBATCH)
    page = tmp_path / "mb.html"
    page.write_text(tracenn.html(str(spec), 6, every=1), encoding="utf-8")
    view = view_of(page.read_text(encoding="utf-8"))
    open_page(wide, page, "#step=2")
    mark = "const m = document.getElementById('curve-mark'); return [m.getAttribute('cx'), " \
           "m.getAttribute('cy')].map(Number)"
    first = wide.execute_script(mark)
    wide.find_element("id", "sample-next").click()
    second = wide.execute_script(mark)
    # step 2's two samples have different losses: the marker moves with the pictured sample
    assert first != second and first[0] == second[0]
    at = view["offsets"][1]
    assert first == view["marks"][at] and second == view["marks"][at + 1]


def test_phone_has_the_old_and_new_values_in_sight(phone, pages):
    open_page(phone, pages / "xor.html", "#step=2&phase=update")
    count, width, hidden = phone.execute_script(OUT_OF_SIGHT, OLD_NEW)
    assert width == 400 and count >= 8 and hidden == []


@pytest.mark.parametrize("name", ["mazur", "xor", "adam"])
@pytest.mark.parametrize("phase", ["forward", "backward", "update"])
def test_at_1400_px_the_picture_and_tables_have_text_of_11_px_or_more(wide, pages, name, phase):
    """Each phase's picture at its own natural size, not scaled into a column (it was 9.3 px
    for Mazur's update view), and its tables: the smallest text in either."""
    open_page(wide, pages / f"{name}.html", f"#step=3&phase={phase}")
    for part in ("picture", "tables"):
        px, where = wide.execute_script(SMALLEST_TEXT.replace(
            "document.body", f"document.getElementById('{part}')"))
        assert px >= 11 - 1e-6, (part, px, where)


NO_SIDEWAYS = """
return Array.from(document.querySelectorAll('#tables figure'))
  .filter(f => f.scrollWidth > f.clientWidth + 1 || f.getBoundingClientRect().right > innerWidth)
  .map(f => f.dataset.key);
"""


@pytest.mark.parametrize("name", ["mazur", "xor", "adam"])
@pytest.mark.parametrize("phase", ["forward", "backward", "update"])
def test_on_a_phone_no_table_scrolls_sideways(phone, pages, name, phase):
    """A table wider than the phone (the chain's 8 columns were 629 px in a 380 px box) is
    written row by row, each number after its column's name; its text stays ≥ 11 px."""
    open_page(phone, pages / f"{name}.html", f"#step=3&phase={phase}")
    assert phone.execute_script(NO_SIDEWAYS) == []
    px, where = phone.execute_script(SMALLEST_TEXT.replace(
        "document.body", "document.getElementById('tables')"))
    assert px >= 11 - 1e-6, (px, where)
    # in a stacked row each number is read after its column's name, as the header says
    pairs = phone.execute_script("""
      const f = document.querySelector('#tables figure.stacked');
      if (!f) return null;
      const td = f.querySelector('tbody td:nth-child(2)');
      return [getComputedStyle(td, '::before').content,
              f.querySelector('thead th:nth-child(2)').textContent];""")
    if phase == "backward":  # the hidden layer's chain table is wider than a phone
        assert pairs is not None
    if pairs is not None:
        assert pairs[0].strip('"').strip() == pairs[1]
