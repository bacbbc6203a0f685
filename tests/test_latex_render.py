"""Every formula tracenn shows renders: the $$ blocks of the shipped walkthroughs and of
walkthroughs generated for specs with and without neuron names (one sample and several), and
`verify --latex`, rendered by the real MathJax 3 (what GitHub uses) and KaTeX under Node.js.

Needs `node` and the packages of tests/js (`npm ci --prefix tests/js`); without them the tests
are skipped, except under CI=true, where they fail (.ci/run installs both)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import tracenn

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
BLOCK = re.compile(r"\$\$\n(.*?)\n\$\$", re.S)

SPECS = {
    # indexed names, three samples in a batch, tanh, relu and a softmax output
    "net-3-4-4-2": (ROOT / "tests" / "specs" / "net-3-4-4-2.toml").read_text(encoding="utf-8"),
    # indexed names, one sample, sigmoid with binary cross-entropy, a shared bias
    "bce-shared": """
[network]
sizes = [2, 3, 1]
activations = ["tanh", "sigmoid"]
loss = "cross-entropy"
shared_bias = [true, false]
init = "normal"
seed = 3
[data]
inputs = [[0.5, -1.0]]
targets = [[1.0]]
""",
    # neuron names with several samples (per-sample names carry @s), identity output and mse
    "named-batch": tracenn.spec.preset_text("softmax").replace('"softmax"]', '"identity"]')
    .replace('loss = "cross-entropy"', 'loss = "mse"').replace('mode = "online"', 'mode = "batch"'),
}


def renderer():
    node = shutil.which("node") or shutil.which("nodejs")
    ready = node and (JS / "node_modules" / "mathjax-full").is_dir() and \
        (JS / "node_modules" / "katex").is_dir()
    if not ready:
        why = ("needs Node.js and MathJax/KaTeX: install nodejs, then npm ci --prefix tests/js")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the TeX renderers are missing: {why}")
        pytest.skip(why)
    return node


def failures(items: list[dict]) -> list[dict]:
    node = renderer()
    done = subprocess.run([node, str(JS / "check_tex.js")], input=json.dumps(items),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def walkthrough_blocks(name: str, text: str) -> list[dict]:
    return [{"id": f"{name} block {i}: {tex[:80]}", "tex": tex, "display": True}
            for i, tex in enumerate(BLOCK.findall(text), 1)]


def test_the_renderers_catch_a_bad_formula():
    bad = failures([{"id": "double exponent", "tex": "W^{(2)}_{1,1}^{+}", "display": True}])
    assert {f["renderer"] for f in bad} == {"mathjax", "katex"}


@pytest.mark.parametrize("name", ["mazur", "xor", "softmax", "adam"])
def test_shipped_walkthroughs_render(name):
    text = (ROOT / "walkthroughs" / f"{name}.md").read_text(encoding="utf-8")
    items = walkthrough_blocks(name, text)
    assert len(items) > 20
    assert failures(items) == []


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_walkthroughs_render(name):
    text = tracenn.walkthrough(SPECS[name])
    items = walkthrough_blocks(name, text)
    assert len(items) > 20
    assert failures(items) == []


def test_verify_latex_renders(run, tmp_path):
    items = []
    for name in ["mazur", "xor", "softmax", *sorted(SPECS)]:
        target = name
        if name in SPECS:
            target = tmp_path / f"{name}.toml"
            target.write_text(SPECS[name], encoding="utf-8")
        result = run("verify", target, "--latex")
        assert result.exit_code == 0, result.stderr
        items.append({"id": f"verify {name}", "tex": result.stdout, "display": True})
    assert failures(items) == []
