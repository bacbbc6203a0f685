"""The chain view (issue 22): every number on it is the trace's, each wire's gradient is the
δ of the neuron it feeds times the value it carries (checked on the picture's own numbers),
σ′ is the trace's, and where the loss fuses the derivative the picture says δ = out − t."""

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tracenn

NS = "{http://www.w3.org/2000/svg}"
SPECS = Path(__file__).resolve().parent / "specs"
NUMBER = re.compile(r"−?-?\d+\.\d+")
TARGETS = ["mazur", "xor", "softmax", str(SPECS / "net-3-4-4-2.toml"),
           str(SPECS / "net-4-8-3.toml")]


def numbers(text):
    return [float(n.replace("−", "-")) for n in NUMBER.findall(text)]


def shown(root):
    """Each text's slot, its whole text (tspans joined) and the names of its numbers."""
    return {t.get("data-key"): ("".join(t.itertext()), [n for n in (t.get("data-q") or "").split("|") if n])
            for t in root.iter(f"{NS}text") if "".join(t.itertext())}


@pytest.mark.parametrize("target", TARGETS)
def test_every_number_on_the_chain_is_the_traces(target):
    root = ET.fromstring(tracenn.draw(target, view="chain"))
    step = tracenn.step(target, 1)
    checked = 0
    for key, (text, names) in shown(root).items():
        for name, value in zip(names, numbers(text)):
            assert math.isclose(value, step[name], abs_tol=0.51e-4), (key, text, name)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("target", ["mazur", "xor", "softmax", str(SPECS / "net-4-8-3.toml")])
def test_each_wires_gradient_is_delta_times_its_value(target):
    root = ET.fromstring(tracenn.draw(target, view="chain"))
    step = tracenn.step(target, 1)
    assert len(step.samples) == 1  # for one sample ∂E/∂w = δ · value exactly
    texts = shown(root)
    wires = 0
    for l, layer in enumerate(step.layers, start=1):
        for j in range(layer.W.shape[0]):
            delta = numbers(texts[f"n:{l}:{j}:5"][0])[0]
            assert delta == pytest.approx(layer.delta[0, j], abs=0.51e-4)
            for k in range(layer.W.shape[1]):
                text = texts[f"w:{l}:{j}:{k}"][0]
                assert "▸" in text and "◂" in text
                value, grad = numbers(text)
                # the product of two 4-decimal numbers, rounded: within the rounding of each
                assert abs(grad - delta * value) <= 0.5e-4 * (1 + abs(delta) + abs(value)) + 1e-9
                wires += 1
    assert wires == sum(layer.W.size for layer in step.layers)


def test_sigma_prime_is_the_traces_and_delta_its_product():
    root = ET.fromstring(tracenn.draw("mazur", view="chain"))
    step = tracenn.step("mazur", 1)
    texts = shown(root)
    for l, layer in enumerate(step.layers, start=1):
        for j in range(2):
            assert texts[f"n:{l}:{j}:2"][0] == "δ = ∂E/∂out · σ′"
            d, dE_da, sigma = numbers(texts[f"n:{l}:{j}:5"][0])
            out = layer.a[0, j]
            assert sigma == pytest.approx(out * (1 - out), abs=0.51e-4)  # σ′ = out(1 − out)
            assert d == pytest.approx(dE_da * sigma, abs=1e-4)
    assert "0.1385 = 0.7414 · 0.1868" in texts["n:2:0:5"][0]  # Mazur's δ_o1 (his post)


def test_softmax_with_cross_entropy_shows_the_fused_delta():
    root = ET.fromstring(tracenn.draw("softmax", view="chain"))
    step = tracenn.step("softmax", 1)
    texts = shown(root)
    out = step.layers[-1]
    for j in range(out.W.shape[0]):
        assert texts[f"n:2:{j}:2"][0] == "δ = out − t"
        d, a, t = numbers(texts[f"n:2:{j}:5"][0])
        assert a == pytest.approx(out.a[0, j], abs=0.51e-4)
        assert t == step.t[0, j]
        assert d == pytest.approx(a - t, abs=1e-4)
    assert not any("∂E/∂out" in texts[f"n:2:{j}:{i}"][0] for j in range(3) for i in (1, 2, 5))


def test_the_chain_view_from_the_command_line(run, tmp_path):
    out = tmp_path / "c.svg"
    result = run("draw", "mazur", "--view", "chain", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert ET.parse(out).getroot().get("data-view") == "chain"
