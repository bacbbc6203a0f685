"""Faults a user or a hostile tester can cause, each reproduced: one line on stderr, the exit
status, nothing lost of what was printed, no file harmed.  Real processes and pipes where the
fault needs them (signals, closed pipes, a full disk)."""

import json
import math
import os
import signal
import stat
import subprocess
import sys

import pytest

TRACENN = [sys.executable, "-m", "tracenn"]

RELU_SOFTMAX = """
[network]
sizes = [2, 3, 3]
activations = ["relu", "softmax"]
loss = "cross-entropy"
init = "normal"
seed = 1
[training]
learning_rate = 10000000000.0
steps = 20
mode = "online"
[data]
inputs = [[0.5, -1.0], [1.0, 0.5], [-0.5, 0.5]]
targets = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
"""


# Two linear layers and a squared error: each update scales the weights by about η times the
# last, so they overflow within a few steps.  (RELU_SOFTMAX at η = 1e10 used to stop here too,
# but only because a softmax probability underflowed to 0 — a false divergence, issue 21: its
# loss, taken from z, stays finite and it trains on; see test_edges.py.)
EXPLODING = RELU_SOFTMAX.replace('["relu", "softmax"]', '["identity", "identity"]') \
    .replace('"cross-entropy"', '"mse"').replace("10000000000.0", "100.0")


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def start(*args, **kw):
    return subprocess.Popen([*TRACENN, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def finish(proc):
    """The rest of stdout and all of stderr once the process ends.  (Not communicate(): it
    reads the pipe's file descriptor itself and would skip what readline() has buffered.)"""
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(timeout=30)
    return out, err


# --- streaming and stopping ----------------------------------------------------------------


def test_a_long_trace_streams_and_ctrl_c_keeps_every_line():
    proc = start("mazur", "--steps", "100000000", "--json")
    first, second = proc.stdout.readline(), proc.stdout.readline()
    assert proc.poll() is None  # printed as computed: the run is far from done
    assert json.loads(first)["step"] == 1 and json.loads(second)["step"] == 2
    proc.send_signal(signal.SIGINT)
    out, err = finish(proc)
    assert proc.returncode == 130
    assert err == "tracenn: interrupted\n"  # one line, no blank line before it
    lines = [first, second] + out.splitlines()
    steps = [json.loads(line)["step"] for line in lines]  # every line whole, valid JSON
    assert steps == list(range(1, len(steps) + 1))


def test_sigterm_stops_like_ctrl_c_with_143():
    proc = start("mazur", "--steps", "100000000", "--json")
    proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    out, err = finish(proc)
    assert proc.returncode == 143 and err == "tracenn: stopped by SIGTERM\n"
    for line in out.splitlines():
        json.loads(line)


def test_two_quick_ctrl_c_are_one_line():
    proc = start("mazur", "--steps", "100000000", "--json")
    proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    out, err = finish(proc)
    assert proc.returncode == 130 and one_line(err) == "tracenn: interrupted"


def test_a_closed_pipe_is_one_line():
    proc = start("mazur", "--steps", "100000", "--json")
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=30)
    assert proc.returncode == 2
    assert "the reading end of the pipe closed" in one_line(err)


def test_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        done = subprocess.run([*TRACENN, "mazur", "--json"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 2
    assert "stdout: cannot write (No space left on device)" in one_line(done.stderr)


# --- NaN and divergence -------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_divergence_shows_the_steps_before_it_and_never_a_nan(tmp_path, as_json):
    spec = tmp_path / "exploding.toml"
    spec.write_text(EXPLODING)
    done = subprocess.run([*TRACENN, "trace", str(spec), *(["--json"] if as_json else [])],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "training diverged at step" in line and "of layer" in line
    step = int(line.split("diverged at step ")[1].split(":")[0])
    assert step > 1  # the steps before it are shown
    assert "nan" not in done.stdout.lower() and "inf" not in done.stdout.lower()
    if as_json:
        shown = [json.loads(l)["step"] for l in done.stdout.splitlines()]  # strict JSON
        assert shown == list(range(1, step))
    else:
        assert f"Step {step - 1} · forward pass" in done.stdout
        assert f"Step {step} ·" not in done.stdout


def test_a_saturating_relu_softmax_run_is_no_divergence(tmp_path):
    spec = tmp_path / "relu-softmax.toml"
    spec.write_text(RELU_SOFTMAX)
    done = subprocess.run([*TRACENN, "trace", str(spec), "--json"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    assert len(done.stdout.splitlines()) == 20  # every step, each line strict JSON
    assert all(math.isfinite(json.loads(l)["loss"]) for l in done.stdout.splitlines())


def test_xor_with_a_huge_learning_rate_says_the_units_saturated():
    done = subprocess.run([*TRACENN, "xor", "--lr", "1e300"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == ""  # no numpy RuntimeWarning
    assert "Saturated (seed 0): every unit of hidden layer 1 is saturated" in done.stdout
    assert "local minimum" not in done.stdout


# --- files given to compare and trace -------------------------------------------------------


def test_compare_refuses_a_trace_of_another_network(run, tmp_path):
    values = tmp_path / "mazur.jsonl"
    values.write_text(run("mazur", "--json").stdout)
    result = run("compare", "xor", "--values", values)
    assert result.exit_code == 2 and result.stdout == ""
    assert "sizes [2, 2, 2], this network's sizes are [2, 2, 1]" in one_line(result.stderr)


def test_compare_refuses_a_malformed_trace(run, tmp_path):
    obj = json.loads(run("mazur", "--json").stdout)
    obj["layers"] = "oops"
    values = tmp_path / "oops.json"
    values.write_text(json.dumps(obj))
    result = run("compare", "mazur", "--values", values)
    assert result.exit_code == 2 and "layers: expected a list" in one_line(result.stderr)


def test_deeply_nested_toml_is_one_line(run, tmp_path):
    spec = tmp_path / "deep.toml"
    spec.write_text("a = " + "[" * 50000 + "]" * 50000 + "\n")
    result = run("trace", spec)
    assert result.exit_code == 2 and "nested too deeply" in one_line(result.stderr)


def test_a_network_too_large_to_trace_is_refused_with_the_estimate(run, tmp_path):
    spec = tmp_path / "huge.toml"
    spec.write_text('[network]\nsizes = [2, 100000000000, 1]\nactivations = "sigmoid"\n'
                    'loss = "sse"\n[data]\ninputs = [[1, 2]]\ntargets = [[1]]\n')
    result = run("trace", spec)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "network.sizes: a network of 400,000,000,001 parameters needs about" in line
    assert "GiB of memory is available" in line


def test_a_local_file_named_like_a_preset_is_not_silently_shadowed(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xor").write_text("not a spec")
    result = run("trace", "xor")
    assert result.exit_code == 2 and "both a preset and a file" in one_line(result.stderr)
    assert run("xor", "--epochs", "1").exit_code == 0  # the xor command means the preset


def test_trace_honours_the_spec_epochs_and_says_how_many_steps_ran(run):
    result = run("trace", "xor", "--json")
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    assert lines[-1]["step"] == 8000  # 2000 epochs of 4 online steps
    assert run("trace", "xor").stdout.rstrip().endswith(
        "Ran 8000 steps: the spec's epochs = 2000, 4 online steps per epoch; every 800th step "
        "in full (--every 1 shows each).")


# --- -o FILE -----------------------------------------------------------------------------------


def test_output_keeps_an_existing_files_mode_and_writes_through_a_symlink(run, tmp_path):
    target = tmp_path / "doc.md"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.md"
    link.symlink_to(target)
    assert run("walkthrough", "mazur", "-o", link).exit_code == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8").startswith("# Walkthrough")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_output_refuses_a_write_protected_file(run, tmp_path):
    target = tmp_path / "keep.md"
    target.write_text("keep me")
    target.chmod(0o444)
    result = run("walkthrough", "mazur", "-o", target)
    assert result.exit_code == 2 and "write-protected" in one_line(result.stderr)
    assert target.read_text() == "keep me" and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert [p.name for p in tmp_path.iterdir()] == ["keep.md"]  # no temporary file left


def test_a_new_output_file_gets_the_usual_mode(run, tmp_path):
    old = os.umask(0o022)
    try:
        assert run("walkthrough", "mazur", "-o", tmp_path / "new.md").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644


def test_output_dash_is_stdout(run):
    result = run("walkthrough", "mazur", "-o", "-")
    assert result.stdout.startswith("# Walkthrough: Mazur's")


# --- papercuts ---------------------------------------------------------------------------------


def test_bare_tracenn_prints_the_help(run):
    result = run()
    assert result.exit_code == 0 and "Commands:" in result.stdout and result.stderr == ""


def test_no_minus_zero_at_precision_0(run):
    out = run("mazur", "--precision", "0").stdout
    assert "-0 " not in out and " -0\n" not in out


@pytest.mark.parametrize("fmt, title", [
    ("html", "<p><strong>Step 1 · forward pass (hidden 1: sigmoid, output: sigmoid)</strong></p>"),
    # the · as LaTeX, so that pdflatex compiles it (test_latex_tables.py)
    ("latex", r"\paragraph{Step 1 \ensuremath{\cdot} forward pass (hidden 1: sigmoid, "
              r"output: sigmoid)}"),
])
def test_titles_are_in_the_formats_markup(run, fmt, title):
    out = run("mazur", "--format", fmt).stdout
    assert out.startswith(title)


def test_check_refuses_a_network_beyond_verifys_limits(run, tmp_path):
    spec = tmp_path / "deep.toml"
    spec.write_text('[network]\nsizes = [4, 10, 10, 10, 10, 10, 3]\nactivations = ["tanh", "tanh", '
                    '"tanh", "tanh", "tanh", "softmax"]\nloss = "cross-entropy"\ninit = "normal"\n'
                    '[data]\ninputs = [[0.1, 0.2, 0.3, 0.4]]\ntargets = [[1, 0, 0]]\n')
    result = run("trace", spec, "--check")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--check keeps to verify's default limits" in one_line(result.stderr)


@pytest.mark.parametrize("name, content", [
    ("dup.csv", "\ufeffname,value\nout_h1,0.593269992\nout_h1,0.5\n"),
    ("dup.json", '\ufeff{"out_h1": 0.593269992, "out_h1": 0.5}'),
])
def test_a_name_given_twice_and_a_bom_are_read_and_said(run, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run("compare", "mazur", "--values", path)
    assert result.exit_code == 1  # the BOM is no part of the first name; the later value is used
    assert "out_h1 given again" in result.stdout and "yours:   0.500000000" in result.stdout
