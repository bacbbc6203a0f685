"""Walkthroughs: the committed documents are checked in test_golden.py; here, their content."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mazur_walkthrough_has_the_blog_values_and_the_note():
    text = (ROOT / "walkthroughs" / "mazur.md").read_text(encoding="utf-8")
    for value in ["0.593269992", "1.105905967", "0.751365070", "0.298371109", "0.082167041",
                  "0.358916480", "0.149780716", "0.291027774", "0.291027924"]:
        assert value in text, value
    assert "## About the figures in the source" in text
    assert "## Common mistakes" in text
    # a formula, its numbers and its result on one line
    assert ("w_{5}^{+} = w_{5} - \\eta \\frac{\\partial E}{\\partial w_{5}} = "
            "0.4 - 0.5 \\cdot 0.082167041 = 0.358916480") in text


def test_softmax_walkthrough_explains_the_delta():
    text = (ROOT / "walkthroughs" / "softmax.md").read_text(encoding="utf-8")
    assert "## Why δ = a − y for softmax with cross-entropy" in text
    assert "\\delta_{o1} = \\mathrm{out}_{o1} - t_{1}" in text


def test_every_mistake_appears_in_every_walkthrough():
    """Every mistake that can change step 1 of plain gradient descent (the presets' optimizer)
    has its row; the optimizer mistakes appear in the walkthroughs of their optimizers."""
    from tracenn.engine.mistakes import CATALOGUE, applicable

    classic = [n for n in applicable("sgd", 0.0, step=1) if CATALOGUE[n].walkthrough]
    assert len(classic) == 8
    for name in ("mazur", "xor", "softmax"):
        text = (ROOT / "walkthroughs" / f"{name}.md").read_text(encoding="utf-8")
        for mistake in classic:
            assert f"`{mistake}`" in text


def test_output_file_written_whole(run, tmp_path):
    out = tmp_path / "m.md"
    out.write_text("old")
    assert run("walkthrough", "mazur", "-o", out).exit_code == 0
    # the file is the printed document plus its two pictures (written beside it)
    lines = [line for line in out.read_text(encoding="utf-8").split("\n\n")
             if not line.startswith("![")]
    assert "\n\n".join(lines) == run("walkthrough", "mazur").stdout


def test_output_into_missing_folder_fails_cleanly(run, tmp_path):
    result = run("walkthrough", "mazur", "-o", tmp_path / "no" / "such" / "m.md")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot write" in result.stderr


@pytest.mark.parametrize("args", [["mazur"], ["graph", "(x + y) * z", "--at", "x=-2,y=5,z=-4"]],
                         ids=["network", "circuit"])
def test_a_picture_that_cannot_be_written_leaves_every_file_as_it_was(run, tmp_path, args):
    """The page and its two pictures are written all three, or none: here m-backward.svg is a
    folder, so neither m.md nor m-forward.svg may change."""
    page, forward = tmp_path / "m.md", tmp_path / "m-forward.svg"
    page.write_text("keep me")
    forward.write_text("keep me too")
    (tmp_path / "m-backward.svg").mkdir()
    result = run("walkthrough", *args, "-o", page)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "m-backward.svg" in result.stderr
    assert page.read_text() == "keep me" and forward.read_text() == "keep me too"


def test_bad_spec_leaves_existing_output_untouched(run, tmp_path):
    out = tmp_path / "m.md"
    out.write_text("keep me")
    result = run("walkthrough", tmp_path / "missing.toml", "-o", out)
    assert result.exit_code == 2
    assert out.read_text() == "keep me"
