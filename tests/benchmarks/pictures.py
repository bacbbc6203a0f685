"""Benchmark of the pictures' targets (not part of the test run):

  1. `tracenn draw mazur -o x.svg` within 1.5× the time of `tracenn mazur --steps 1`: both
     commands as fresh processes, alternated in rounds (a shared machine's speed drifts), the
     median of each; and that draw imports no SymPy.
  2. `tracenn html xor --steps 2000 -o x.html` under 2 MB, and interactive in the browser in
     under 1 s by the browser's own timing: Chromium (headless, through chromedriver) opens the
     file; the page marks `tracenn-ready` when its script has drawn the first step, and the
     navigation entry gives domInteractive and loadEventEnd (ms from the start of navigation).

    python3 tests/benchmarks/pictures.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tracenn(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tracenn", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def startup(rounds: int, tmp: Path) -> None:
    svg = tmp / "x.svg"
    draw, mazur = [], []
    for _ in range(rounds):
        mazur.append(tracenn("mazur", "--steps", "1"))
        draw.append(tracenn("draw", "mazur", "-o", str(svg)))
    m, d = statistics.median(mazur), statistics.median(draw)
    print(f"tracenn mazur --steps 1      median {m * 1000:.0f} ms over {rounds} runs")
    print(f"tracenn draw mazur -o x.svg  median {d * 1000:.0f} ms  ({d / m:.2f}× mazur; target ≤ 1.5×)")
    code = ("import sys, tracenn; tracenn.draw('mazur'); "
            "print('sympy imported' if 'sympy' in sys.modules else 'no sympy import')")
    print("draw:", subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                  text=True).stdout.strip())


def page(rounds: int, tmp: Path) -> None:
    html = tmp / "x.html"
    built = tracenn("html", "xor", "--steps", "2000", "-o", str(html))
    size = html.stat().st_size
    print(f"tracenn html xor --steps 2000: {size / 1e6:.2f} MB (target < 2 MB), written in "
          f"{built:.2f} s")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("google-chrome")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                f"--user-data-dir={profile}", "--window-size=1500,1100"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    ready, interactive, loaded = [], [], []
    try:
        for _ in range(rounds):
            driver.get("about:blank")
            driver.get(html.resolve().as_uri() + "#step=1000")
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.body && document.body.dataset.ready"))
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.readyState") == "complete")
            t = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return [performance.getEntriesByName('tracenn-ready')[0].startTime,"
                " n.domInteractive, n.loadEventEnd]")
            ready.append(t[0]), interactive.append(t[1]), loaded.append(t[2])
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"in Chromium, median of {rounds} loads (ms from navigation start): script ready "
          f"{statistics.median(ready):.0f} (max {max(ready):.0f}), domInteractive "
          f"{statistics.median(interactive):.0f}, loadEventEnd {statistics.median(loaded):.0f} "
          "(target < 1000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        startup(args.rounds, Path(tmp))
        page(args.rounds, Path(tmp))


if __name__ == "__main__":
    main()
