"""The exact text of the main outputs, against files committed under tests/golden/ (and the
walkthroughs).  To change them deliberately: python3 tests/regenerate.py, then read the diff.

Text goldens print numbers at a fixed number of decimals and must be byte-identical.  JSON
goldens print floats at full precision (17 significant digits), and their last digit depends on
the CPU: OpenBLAS picks its matrix kernel for the CPU (with or without FMA, another summation
order) and NumPy picks AVX-512 or AVX2 code for exp and tanh, so the same trace differs by an ulp
or two from machine to machine (measured on one machine, 2026-12-05: five different byte
outputs of `tracenn xor --json` under five kernel settings, at most 3.4e-15 relative apart
after its 8,000 steps).  They are compared as parsed values: the same keys, strings, integers
and order, and every float within GOLDEN_RELATIVE of the committed one.  The last test runs this
file again under every kernel this CPU offers, so a golden that holds only on one kernel fails
here, not on someone else's machine.
"""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from regenerate import FOLDERS, GOLDEN_RELATIVE, OUTPUTS, ROOT, differences, parsed, \
    produce, produce_folder

def assert_same(rel: str, expected: str, produced: str) -> None:
    if not rel.endswith((".json", ".jsonl")):
        assert produced == expected, f"differs from {rel}"
        return
    found = differences(parsed(rel, expected), parsed(rel, produced), "")
    assert not found, f"differs from {rel}:\n" + "\n".join(found[:10])


@pytest.mark.parametrize("rel", sorted(OUTPUTS))
def test_output_equals_committed_file(rel):
    expected = (ROOT / rel).read_text(encoding="utf-8")
    assert_same(rel, expected, produce(OUTPUTS[rel], Path(rel).name))


@pytest.mark.parametrize("rel", sorted(FOLDERS))
def test_folder_equals_committed_files(rel):
    folder = ROOT / rel
    expected = {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
                for p in sorted(folder.rglob("*")) if p.is_file()}
    produced = produce_folder(FOLDERS[rel])
    assert sorted(produced) == sorted(expected), f"the files of {rel} differ"
    for name, text in produced.items():
        assert_same(f"{rel}/{name}", expected[name], text)


def test_the_comparison_can_fail():
    golden = '{"loss": 0.1680710223727633, "kind": "step"}'
    assert not differences(json.loads(golden), json.loads(golden.replace("633", "6328")))
    assert differences(json.loads(golden), json.loads(golden.replace("0.16807", "0.16808")))
    assert differences(json.loads(golden), json.loads(golden.replace("step", "summary")))
    assert differences({"a": 1.0, "b": 2.0}, {"b": 2.0, "a": 1.0})
    assert differences([0.0], [1e-300])


def kernel_settings() -> dict[str, dict[str, str]]:
    """The BLAS and SIMD kernels this CPU can run, each as the environment that selects it."""
    try:  # the SIMD targets NumPy dispatches to at run time
        from numpy._core import _multiarray_umath as umath  # NumPy 2
    except ImportError:
        from numpy.core import _multiarray_umath as umath  # NumPy 1
    settings = {"NumPy without its dispatched SIMD code":
                {"NPY_DISABLE_CPU_FEATURES": " ".join(umath.__cpu_dispatch__)}}
    if platform.machine() in ("x86_64", "AMD64"):
        flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else []
        settings["OpenBLAS Nehalem (SSE4)"] = {"OPENBLAS_CORETYPE": "Nehalem"}
        if "avx2" in flags:
            settings["OpenBLAS Haswell (AVX2)"] = {"OPENBLAS_CORETYPE": "Haswell"}
        if "avx512f" in flags:
            settings["OpenBLAS SkylakeX (AVX-512)"] = {"OPENBLAS_CORETYPE": "SkylakeX"}
    return settings


@pytest.mark.skipif(os.environ.get("TRACENN_GOLDEN_KERNEL") is not None,
                    reason="already running under one kernel setting")
@pytest.mark.parametrize("name", sorted(kernel_settings()))
def test_goldens_hold_under_every_kernel(name):
    env = dict(os.environ, TRACENN_GOLDEN_KERNEL=name, **kernel_settings()[name])
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"under {name}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"


def test_regenerating_keeps_a_json_golden_equal_within_the_tolerance():
    """tests/regenerate.py must not commit this CPU's last digits: a value one ulp away keeps
    the committed file; a value changed at the 12th digit (a real change) is rewritten."""
    from regenerate import same
    old = '{"E": 0.29837110876000272, "step": 1}\n'
    ulp = '{"E": 0.29837110876000278, "step": 1}\n'
    real = '{"E": 0.29837110876100272, "step": 1}\n'
    assert same("tests/golden/x.jsonl", old, ulp)
    assert not same("tests/golden/x.jsonl", old, real)
    assert not same("tests/golden/x.txt", "0.2984\n", "0.2985\n")
    assert not same("tests/golden/x.jsonl", None, old)
