"""The step player and the MNIST report, as a person sees them: opened in a real headless
browser (Debian's chromium with chromedriver, through Selenium), after their script has run.

Without a browser these tests are skipped, with the reason; `.ci/run` installs one and sets
TRACENN_REQUIRE_BROWSER=1, which turns a missing browser into a failure.
"""

import base64
import html
import json
import math
import os
import re
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import tracenn

HOW = ("needs Chromium, its chromedriver and selenium: on Debian `apt-get install chromium "
       "chromium-driver` and `pip install -e '.[test]'`")


def _find(*names):
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    for path in ("/usr/lib/chromium/chromedriver", "/usr/lib/chromium-browser/chromedriver"):
        if any(n == "chromedriver" for n in names) and os.path.exists(path):
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    chromium = _find("chromium", "chromium-browser", "google-chrome")
    driver_path = _find("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    if webdriver is None or not chromium or not driver_path:
        if os.environ.get("TRACENN_REQUIRE_BROWSER"):
            pytest.fail(f"TRACENN_REQUIRE_BROWSER is set but no browser was found: {HOW}")
        pytest.skip(HOW)
    profile = tempfile.mkdtemp(prefix="tracenn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1500,1100"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path, fragment: str = ""):
    """Open the page, wait for its script to have run; returns the URLs requested meanwhile."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get_log("performance")  # forget what the browser did before
    url = path.resolve().as_uri()
    driver.get(url + fragment)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.body && document.body.dataset.ready") == "1")
    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    return url, requested


def text(driver, css: str) -> str:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(e => e.closest('svg') === null || e.closest('svg').style.display !== 'none')"
        ".map(e => e.textContent).join('\\n')", css)


def rows(driver, key: str) -> list[list[str]]:
    """The cells of the table `key` (forward, error, backward:2, …) as the page shows them."""
    return driver.execute_script(
        "const f = document.querySelector(`#tables figure[data-key='${arguments[0]}']`);"
        "return Array.from(f.querySelectorAll('tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent))", key)


def f4(x: float) -> str:
    """Four decimals, as the page shows them (written here independently of tracenn)."""
    return f"{x:.4f}"


@pytest.fixture(scope="module")
def mazur_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("player") / "mazur.html"
    path.write_text(tracenn.html("mazur", 6), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mazur_steps():
    return {s.step: s for s in tracenn.trace("mazur", 6).steps}


def test_fragment_opens_that_step_with_its_numbers(browser, mazur_page, mazur_steps):
    open_page(browser, mazur_page, "#step=3")
    assert browser.find_element("id", "step-label").text.startswith("step 3 of 6")
    step = mazur_steps[3]
    assert rows(browser, "error")[-1] == ["E_total", "", "", f4(step["E_total"])]
    assert text(browser, "[data-key='total:1']") == f4(step["E_total"])
    output = rows(browser, "backward:2")  # δ = ∂E/∂net is the fourth column
    assert output[0][0].startswith("w5") and output[0][3] == f4(step["delta_o1"])
    assert output[2][0].startswith("w7") and output[2][3] == f4(step["delta_o2"])
    hidden = rows(browser, "backward:1")
    assert hidden[0][3] == f4(step["delta_h1"]) and hidden[2][3] == f4(step["delta_h2"])
    # the backward phase shows the chain view (issue 22): δ with its formula's numbers
    open_page(browser, mazur_page, "#step=3&phase=backward")
    assert text(browser, "[data-key='n:2:0:2']") == "δ = ∂E/∂out · σ′"
    assert text(browser, "[data-key='n:2:0:5']").startswith(f"δ {f4(step['delta_o1'])} = ")
    wire = text(browser, "[data-key='w:2:0:0']")  # ▸ out_h1 ◂ ∂E/∂w5, after a step change
    assert wire.strip() == f"▸ {f4(step['out_h1'])} ◂ {f4(step['dE/dw5'])}"


def test_next_advances_and_arrow_keys_move(browser, mazur_page, mazur_steps):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, mazur_page, "#step=3")
    browser.find_element("id", "next").click()
    assert browser.find_element("id", "step-label").text.startswith("step 4 of 6")
    assert text(browser, "[data-key='total:1']") == f4(mazur_steps[4]["E_total"])
    assert browser.execute_script("return location.hash") == "#step=4"
    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert browser.find_element("id", "step-label").text.startswith("step 5 of 6")
    body.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert browser.find_element("id", "step-label").text.startswith("step 3 of 6")
    browser.find_element("id", "prev").click()
    assert browser.find_element("id", "step-label").text.startswith("step 2 of 6")


def test_phases_light_up_and_switch_the_view(browser, mazur_page):
    open_page(browser, mazur_page, "#step=2")
    visible = "return Array.from(document.querySelectorAll('#diagram svg'))" \
              ".filter(s => s.style.display !== 'none').map(s => s.getAttribute('class'))"
    assert browser.execute_script(visible) == ["tracenn-figure hot-forward"]
    for phase, cls in ((1, "hot-error"), (2, "hot-backward"), (3, "hot-update")):
        browser.find_element("css selector", f"#phases button[data-phase='{phase}']").click()
        assert browser.execute_script(visible) == [f"tracenn-figure {cls}"]
    hot = browser.execute_script("return Array.from(document.querySelectorAll('#tables figure.hot'))"
                                 ".map(f => f.dataset.key)")
    assert "before-after" in hot


def test_play_runs_through_the_phases(browser, mazur_page):
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, mazur_page, "#step=1")
    browser.execute_script("document.getElementById('speed').value = 'fast'")
    browser.find_element("id", "play").click()
    # wait (polling, up to a generous limit) until playing has moved on from step 1's forward
    WebDriverWait(browser, 30, poll_frequency=0.1).until(
        lambda b: not b.find_element("id", "step-label").text.startswith("step 1 of 6 · forward"))
    browser.find_element("id", "play").click()  # pause
    assert browser.find_element("id", "play").text.endswith("play")


def test_slider_moves_through_the_steps(browser, mazur_page):
    open_page(browser, mazur_page)
    browser.execute_script("const s = document.getElementById('slider'); s.value = 5; "
                           "s.dispatchEvent(new Event('input'))")
    assert browser.find_element("id", "step-label").text.startswith("step 6 of 6")


def test_nothing_is_requested_while_the_page_loads(browser, mazur_page):
    url, requested = open_page(browser, mazur_page, "#step=2")
    assert requested == [url + "#step=2"] or requested == [url], requested
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def png_colours(png: bytes) -> tuple[int, float]:
    """Distinct colours (sampled) and the share of pixels that are not white, read from a PNG
    (8-bit RGB or RGBA, as Chromium writes screenshots)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6)
    bpp = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * bpp
    prev = bytearray(stride)
    colours, inked, seen = set(), 0, 0
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = {0: 0, 1: a, 2: b, 3: (a + b) // 2}.get(kind)
            if p is None:  # Paeth
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + p) & 0xFF
        prev = line
        if y % 5 == 0:
            for x in range(0, width, 5):
                px = bytes(line[x * bpp:x * bpp + 3])
                colours.add(px)
                inked += px != b"\xff\xff\xff"
                seen += 1
    return len(colours), inked / seen


def test_screenshot_is_not_blank(browser, mazur_page):
    open_page(browser, mazur_page, "#step=2")
    colours, inked = png_colours(browser.get_screenshot_as_png())
    assert colours > 30 and inked > 0.05, (colours, inked)


def test_embedded_trace_is_json_lines_in_format_1(mazur_page, mazur_steps):
    page = mazur_page.read_text(encoding="utf-8")
    body = re.search(r'<script type="application/x-ndjson" id="tracenn-trace">\n(.*?)\n</script>',
                     page, re.S).group(1)
    objects = [json.loads(line) for line in body.splitlines()]
    assert [o["step"] for o in objects] == [1, 2, 3, 4, 5, 6]
    assert all(o["format"] == 1 and o["kind"] == "step" for o in objects)
    assert objects[2] == json.loads(json.dumps(mazur_steps[3].to_json()))


def test_page_refers_to_nothing_outside_itself(mazur_page):
    page = mazur_page.read_text(encoding="utf-8")
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert set(re.findall(r"https?://[^\s\"'<)]+", page)) <= {"http://www.w3.org/2000/svg"}


# --------------------------------------------------------------------------------------------
# XOR: the output over the input plane


@pytest.fixture(scope="module")
def xor_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("player") / "xor.html"
    path.write_text(tracenn.html("xor", 400, every=25), encoding="utf-8")
    return path


def test_plane_is_the_engines_output_after_the_step(xor_page):
    """The levels the page paints are the network's output after the step, recomputed here
    with NumPy from the trace's updated weights (an independent forward pass)."""
    page = xor_page.read_text(encoding="utf-8")
    view = json.loads(re.search(r'id="tracenn-view">(.*?)</script>', page, re.S).group(1))
    plane = view["plane"]
    steps = {s.step: s for s in tracenn.trace("xor", 400).steps}
    # XOR is online over 4 samples: with --every 25 the page keeps whole epochs 1, 25, 50, …
    # (every sample of each), not steps 1, 25, 50, … that always hit the same samples
    assert view["steps"] == [e * 4 - 3 + k for e in (1, 25, 50, 75, 100) for k in range(4)]
    n = plane["size"]
    xs = np.linspace(plane["x"][0], plane["x"][1], n)
    ys = np.linspace(plane["y"][1], plane["y"][0], n)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    for i, step_no in enumerate(view["steps"]):
        levels = np.frombuffer(base64.b64decode(plane["levels"][i]), np.uint8)
        hidden, out = steps[step_no].layers
        for row, col in ((0, 0), (0, n - 1), (n // 2, n // 3), (n - 1, n - 1)):
            x = np.array([xs[col], ys[row]])
            y = sigmoid(out.W_new @ sigmoid(hidden.W_new @ x + hidden.b_new) + out.b_new)[0]
            assert abs(levels[row * n + col] - round(255 * y)) <= 1, (step_no, row, col)
    assert plane["points"] == [[0.0833, 0.9167, 0], [0.0833, 0.0833, 1], [0.9167, 0.9167, 1],
                               [0.9167, 0.0833, 0]]


def test_a_step_not_kept_opens_the_nearest_kept_one_and_says_so(browser, xor_page):
    # issue 22: #step=210 opens step 200 (10 away), not step 297 (87 away)
    open_page(browser, xor_page, "#step=210")
    assert browser.find_element("id", "step-label").text.startswith("step 200 of 400")
    notice = browser.find_element("id", "notice").text
    assert "Step 210 is not kept in full" in notice and "showing step 200" in notice
    assert browser.find_element("id", "notice").is_displayed()


def test_plane_is_painted_and_keeps_steps_it_does_not_hold(browser, xor_page):
    open_page(browser, xor_page, "#step=250")  # 47 from step 297, 50 from step 200
    assert browser.find_element("id", "step-label").text.startswith("step 297 of 400")
    notice = browser.find_element("id", "notice").text
    assert "Step 250 is not kept in full" in notice and "--every 1" in notice
    assert browser.execute_script("return document.getElementById('plane').hidden") is False
    pixel = browser.execute_script(
        "const c = document.getElementById('plane-canvas').getContext('2d');"
        "return Array.from(c.getImageData(0, 0, 1, 1).data)")
    view = json.loads(re.search(r'id="tracenn-view">(.*?)</script>',
                                xor_page.read_text(encoding="utf-8"), re.S).group(1))
    level = base64.b64decode(view["plane"]["levels"][view["steps"].index(297)])[0]
    assert pixel == view["plane"]["palette"][0][level] + [255]
    open_page(browser, xor_page, "#step=999")
    assert "There is no step 999" in browser.find_element("id", "notice").text


# --------------------------------------------------------------------------------------------
# Size, bad input


def test_xor_2000_steps_page_is_under_2_mb():
    page = tracenn.html("xor", 2000)
    assert len(page.encode("utf-8")) < 2_000_000


def test_html_bad_input_gives_one_line_and_no_file(run, tmp_path):
    for args in (["--steps", "0"], ["--every", "0"], ["--precision", "20"]):
        result = run("html", "mazur", "-o", tmp_path / "x.html", *args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    result = run("html", "mazur", "-o", tmp_path / "no" / "x.html")
    assert result.exit_code == 2 and "cannot write" in result.stderr
    big = tmp_path / "big.toml"
    big.write_text('[network]\nsizes = [784, 10]\nactivations = ["softmax"]\n'
                   'loss = "cross-entropy"\n[data]\ninputs = [[0]]\ntargets = [[1]]\n')
    result = run("html", big, "-o", tmp_path / "x.html")
    assert result.exit_code == 2 and "784" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.toml"]


def test_html_writes_the_page(run, tmp_path):
    out = tmp_path / "m.html"
    result = run("html", "mazur", "--steps", "3", "-o", out)
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="tracenn-trace"' in page
    assert math.isfinite(len(page))


# --------------------------------------------------------------------------------------------
# The MNIST report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from click.testing import CliRunner

    from tracenn.cli import cli

    path = tmp_path_factory.mktemp("report") / "r.html"
    result = CliRunner().invoke(cli, ["mnist", "--limit", "600", "--epochs", "2", "--json",
                                      "--html", str(path)], prog_name="tracenn")
    assert result.exit_code == 0, result.stderr
    return path, [json.loads(line) for line in result.stdout.splitlines()]


def test_report_has_a_chart_per_statistic_and_the_confusion_matrix(report):
    path, summaries = report
    page = path.read_text(encoding="utf-8")
    titles = [html.unescape(t) for t in
              re.findall(r'<text x="\d+" y="14" font-size="11" font-weight="bold">([^<]+)</text>', page)]
    assert titles[:6] == ["loss (mean over the summary's batches)", "accuracy, %",
                          "‖∂E/∂W‖ per weight (log scale)", "update ratio ‖ΔW‖/‖W‖ (log scale)",
                          "dead units, %", "predicted digit →"]
    # one line per layer in the per-layer charts
    chart = page.split("‖∂E/∂W‖ per weight (log scale)")[1].split("</svg>")[0]
    assert chart.count("<polyline") == 3 and ">hidden 2<" in chart
    cells = [int(v) for v in re.findall(r'data-predicted="\d"/>\n<text [^>]+>(\d+)</text>', page)]
    assert len(cells) == 100 and sum(cells) == 1000  # the sample's test set
    diagonal = sum(cells[11 * d] for d in range(10))
    last = summaries[-1]
    assert f"Test accuracy {100 * diagonal / 1000:.2f}%" in page
    assert diagonal / 1000 == pytest.approx(last["test_accuracy"])
    assert f"train {100 * last['train_accuracy']:.2f}%" in page
    assert not re.search(r"\b(src|href)\s*=", page) and "<script" not in page


def test_report_opens_in_a_browser_without_requests(browser, report):
    from selenium.webdriver.support.ui import WebDriverWait

    path, _ = report
    browser.get("about:blank")
    browser.get_log("performance")
    browser.get(path.resolve().as_uri())
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    requested = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in requested if m["method"] == "Network.requestWillBeSent"]
    assert urls == [path.resolve().as_uri()]
    assert browser.execute_script("return document.querySelectorAll('svg.chart').length") == 5
    colours, inked = png_colours(browser.get_screenshot_as_png())
    assert colours > 30 and inked > 0.05


def test_report_after_ctrl_c_holds_what_there_is(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "r.html"
    proc = subprocess.Popen([sys.executable, "-m", "tracenn", "mnist", "--epochs", "200", "--quiet",
                             "--html", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    page = path.read_text(encoding="utf-8")
    assert "Interrupted" in page and "Confusion matrix" in page
    assert "Training finished" not in page
